import { type Command, InvalidArgumentError, Option } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import { ModelportError } from "../../core/errors.js";
// Pure functions over numbers (no tfjs, no storage): cheap to load with the command table.
import { type EvaluationReport, summarizeMetrics } from "../../training/evaluation/evaluate.js";
import type { VersionEvaluation } from "../../training/evaluation/evaluate-version.js";
import { printJson, printTable, UsageError } from "../output.js";
import { withTenantContext } from "../storage-context.js";

/**
 * `modelport eval MODEL[@VERSION|@ALIAS] --dataset NAME[@VERSION]`: scores a registered version on
 * a dataset version's split (default the held-out test split, made as the trainer made it). The
 * model runs as the gateway runs it; heavy modules load inside the action.
 */

interface EvalFlags extends StorageFlags {
  dataset?: string;
  split: "test" | "validation" | "train" | "all";
  seed?: number;
  slice?: string;
  tenant?: string;
  json?: boolean;
}

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new InvalidArgumentError("expected a non-negative integer");
  return Number(value);
}

/** A malformed reference is a wrong command line (exit 2); an unknown one is MP_NOT_FOUND (exit 1). */
function usageOnInvalid<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ModelportError && error.code === "MP_INVALID_REQUEST") throw new UsageError(error.message);
    throw error;
  }
}

/** Metrics with four decimals (counts are printed as they are). */
const format = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(4);

function printClassReport(report: Extract<EvaluationReport, { task: "classification" }>): void {
  const row = (name: string, scores: { precision: number; recall: number; f1: number }, support: number) => ({
    class: name,
    precision: format(scores.precision),
    recall: format(scores.recall),
    f1: format(scores.f1),
    support,
  });
  process.stdout.write("\n");
  printTable(
    [
      ...report.perClass.map((scores) => row(String(scores.label), scores, scores.support)),
      row("macro avg", report.macro, report.count),
      row("weighted avg", report.weighted, report.count),
    ],
    ["class", "precision", "recall", "f1", "support"],
  );
  process.stdout.write("\nconfusion matrix (rows: true, columns: predicted)\n");
  const labels = report.labels.map(String);
  printTable(
    report.confusionMatrix.map((counts, i) => ({
      "true\\pred": labels[i],
      ...Object.fromEntries(counts.map((count, j) => [labels[j], count])),
    })),
    ["true\\pred", ...labels],
  );
}

function printSlices(bySlice: NonNullable<VersionEvaluation["bySlice"]>): void {
  const columns =
    bySlice.slices[0]?.metrics.task === "regression"
      ? ["rmse", "mae", "r2"]
      : ["accuracy", "f1", "f1Macro", "rocAuc", "logLoss"];
  process.stdout.write(`\nby ${bySlice.column}\n`);
  printTable(
    bySlice.slices.map((slice) => {
      const metrics = summarizeMetrics(slice.metrics);
      return {
        [bySlice.column]: slice.value === null ? "(missing)" : String(slice.value),
        rows: slice.count,
        ...Object.fromEntries(columns.map((name) => [name, format(metrics[name])])),
      };
    }),
    [bySlice.column, "rows", ...columns],
  );
}

function printHuman(result: VersionEvaluation): void {
  const aliases = result.aliases.length > 0 ? ` [${result.aliases.join(", ")}]` : "";
  const split = result.seed === null ? "all rows" : `${result.split} split (seed ${result.seed})`;
  process.stdout.write(
    `${result.model} v${result.version}${aliases} on ${result.dataset.name}@${result.dataset.version.slice(0, 12)}, ${split}: ${result.rows} rows\n\n`,
  );
  const registered = result.registeredMetrics;
  printTable(
    Object.entries(result.metrics).map(([name, value]) => ({
      metric: name,
      value: format(value),
      ...(registered === null ? {} : { registered: format(registered[name]) }),
    })),
    registered === null ? ["metric", "value"] : ["metric", "value", "registered"],
  );
  if (result.report.task === "classification") printClassReport(result.report);
  if (result.bySlice !== undefined) printSlices(result.bySlice);
}

export async function runEval(ref: string, flags: EvalFlags): Promise<void> {
  const { parseModelRef } = await import("../../training/registry/registry.js");
  const { parseDatasetReference } = await import("../../training/datasets/dataset-store.js");
  const model = usageOnInvalid(() => parseModelRef(ref));
  const dataset =
    flags.dataset === undefined ? undefined : usageOnInvalid(() => parseDatasetReference(flags.dataset as string));
  const { createDatasetStore } = await import("../../training/datasets/dataset-store.js");
  const { createModelRegistry, globalNamespace } = await import("../../training/registry/index.js");
  const { evaluateVersion } = await import("../../training/evaluation/evaluate-version.js");
  const result = await withTenantContext(flags, async ({ handle, dataDir, tenantId }) =>
    evaluateVersion({
      // A tenant's own models with --tenant; the operator's global models (quickstart's) without.
      registry: createModelRegistry({
        db: handle.db,
        dialect: handle.dialect,
        dataDir,
        namespace: flags.tenant === undefined ? globalNamespace : tenantId,
      }),
      datasets: createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir }),
      tenantId,
      model,
      ...(dataset === undefined ? {} : { dataset }),
      split: flags.split,
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      ...(flags.slice === undefined ? {} : { slice: flags.slice }),
    }),
  );
  for (const note of result.notes) process.stderr.write(`modelport: note: ${note}\n`);
  if (flags.json) printJson(result);
  else printHuman(result);
}

export function registerEval(program: Command): void {
  program
    .command("eval <model>")
    .description(
      "Evaluate a registered model (NAME, NAME@VERSION or NAME@ALIAS) on a dataset version's split (default: its held-out test split)",
    )
    .option(
      "--dataset <name[@version]>",
      "dataset name, optionally @version (default: the model's training dataset version)",
    )
    .addOption(
      new Option("--split <split>", "which rows to score")
        .choices(["test", "validation", "train", "all"])
        .default("test"),
    )
    .option("--seed <n>", "split seed (default: the seed recorded with the model, else 42)", parseSeed)
    .option("--slice <column>", "also report metrics per value of this dataset column")
    .option(
      "--tenant <name>",
      "tenant name or id: its datasets and its models (default: the global models, the default tenant's datasets)",
    )
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action((ref: string, flags: EvalFlags) => runEval(ref, flags));
}
