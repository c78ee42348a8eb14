import type { Command } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import { ModelportError } from "../../core/errors.js";
import { printJson, UsageError } from "../output.js";
import { withTenantContext } from "../storage-context.js";

/**
 * `modelport train` and `modelport run`: offline commands that open the same storage as `serve`
 * and run the work in this process (the CLI is its own worker), with a live progress line on
 * stderr. Heavy modules (TensorFlow.js, the trainer) load inside the actions.
 */

function positiveInteger(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`${name} must be a positive integer`);
    return parsed;
  };
}

function nonNegativeInteger(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`${name} must be a non-negative integer`);
    return parsed;
  };
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!(parsed > 0)) throw new UsageError(`${name} must be a positive number`);
    return parsed;
  };
}

interface TrainFlags extends StorageFlags {
  dataset: string;
  template: string;
  epochs?: number;
  seed?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: string;
  patience?: number;
  name?: string;
  tenant?: string;
  json?: boolean;
}

export async function runTrain(flags: TrainFlags): Promise<void> {
  const { templateNames } = await import("../../training/trainers/types.js");
  if (!(templateNames as readonly string[]).includes(flags.template)) {
    throw new UsageError(`--template must be one of ${templateNames.join(", ")}`);
  }
  if (flags.optimizer !== undefined && !["adam", "sgd", "rmsprop"].includes(flags.optimizer)) {
    throw new UsageError("--optimizer must be adam, sgd or rmsprop");
  }
  const { createDatasetStore } = await import("../../training/datasets/dataset-store.js");
  const { createTrackingStore } = await import("../../training/tracking/tracking-store.js");
  const jobs = await import("../../training/jobs/index.js");
  const { join } = await import("node:path");
  await withTenantContext(flags, async ({ handle, dataDir, tenantId }) => {
    const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
    const tracking = createTrackingStore({ db: handle.db });
    const runner = jobs.createInProcessJobRunner({
      process: jobs.createTrainingJobProcessor({ datasets, tracking, artifactsDir: join(dataDir, "runs") }),
    });
    const hyperparameters = {
      ...(flags.epochs === undefined ? {} : { epochs: flags.epochs }),
      ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
      ...(flags.lr === undefined ? {} : { learningRate: flags.lr }),
      ...(flags.optimizer === undefined ? {} : { optimizer: flags.optimizer as "adam" }),
      ...(flags.patience === undefined ? {} : { patience: flags.patience }),
    };
    const { run } = await jobs.enqueueTraining(
      runner,
      { datasets, tracking },
      {
        tenantId,
        dataset: flags.dataset,
        template: flags.template as "mlp",
        hyperparameters,
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        ...(flags.name === undefined ? {} : { name: flags.name }),
      },
    );
    const bar = jobs.createProgressRenderer(process.stderr);
    if (!flags.json) process.stderr.write(`run ${run.id}: training ${flags.template} on ${run.dataset}\n`);
    runner.subscribe(run.id, (event) => {
      if (event.type === "progress") bar.update(event.progress as Parameters<typeof bar.update>[0]);
    });
    const job = await runner.waitFor(run.id);
    bar.done();
    await runner.close();
    if (job.status === "failed") {
      throw new ModelportError("MP_RUNTIME_ERROR", `training run ${run.id} failed: ${job.error ?? "unknown error"}`);
    }
    const result = job.result as NonNullable<typeof job.result>;
    if (flags.json) {
      printJson({ dataset: run.dataset, template: flags.template, ...result });
      return;
    }
    const metrics = Object.entries(result.metrics)
      .map(([name, value]) => `${name}=${value.toFixed(4)}`)
      .join(" ");
    process.stdout.write(
      `run ${run.id} succeeded in ${(result.durationMs / 1000).toFixed(1)}s (best epoch ${result.bestEpoch}${result.stoppedEarly ? ", stopped early" : ""})\n` +
        `test metrics: ${metrics}\nartifacts: ${result.directory}\n`,
    );
  });
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("Train a model template on a dataset version, tracked as a run")
    .requiredOption("--dataset <name[@version]>", "dataset name, optionally @version (sha256 prefix)")
    .requiredOption("--template <template>", "mlp | regression | bow | cnn | lstm | transformer")
    .option("--epochs <n>", "epochs", positiveInteger("--epochs"))
    .option("--seed <n>", "seed (default 42)", nonNegativeInteger("--seed"))
    .option("--batch-size <n>", "batch size", positiveInteger("--batch-size"))
    .option("--lr <rate>", "learning rate", positiveNumber("--lr"))
    .option("--optimizer <name>", "adam | sgd | rmsprop")
    .option("--patience <n>", "early stopping patience in epochs (0 = off)", nonNegativeInteger("--patience"))
    .option("--name <name>", "run name")
    .option("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action((flags: TrainFlags) => runTrain(flags));
}
