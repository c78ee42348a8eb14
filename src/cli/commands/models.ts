import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import type { ModelRegistry } from "../../training/registry/registry.js";
import { printJson, printTable, UsageError } from "../output.js";

/**
 * `modelport models list|show|promote|register` and `modelport deploy`. Registry modules load on
 * first use, so `--help` and other commands stay fast.
 */

interface RegistryFlags extends StorageFlags {
  tenant?: string;
  json?: boolean;
}

function parseSeed(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError("expected an integer");
  return Number(value);
}

function parseWeight(value: string): number {
  const weight = Number(value);
  if (value.trim() === "" || !Number.isFinite(weight) || weight < 0)
    throw new InvalidArgumentError("expected a non-negative number");
  return weight;
}

/** Opens storage as `serve` does; the registry records promotions on the audit trail. */
async function withRegistry<T>(flags: RegistryFlags, run: (registry: ModelRegistry) => Promise<T>): Promise<T> {
  const { resolveSettings } = await import("../../config/settings.js");
  const { openCheckedStorage } = await import("../../server/open-storage.js");
  const { systemClock } = await import("../../core/clock.js");
  const { createAuditLog } = await import("../../privacy/audit/audit-log.js");
  const { createModelRegistry, globalNamespace } = await import("../../training/registry/index.js");
  const settings = resolveSettings({ config: flags.config, dataDir: flags.dataDir }, process.env);
  const { storage, handle, masterKey } = await openCheckedStorage(settings);
  try {
    const audit = createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir, clock: systemClock });
    const registry = createModelRegistry({
      db: handle.db,
      dialect: handle.dialect,
      dataDir: settings.dataDir,
      namespace: flags.tenant ?? globalNamespace,
      clock: systemClock,
      audit: { record: (event) => audit.record(event as Parameters<typeof audit.record>[0]) },
      onAuditError: (error) =>
        process.stderr.write(`modelport: warning: audit trail write failed: ${(error as Error).message}\n`),
    });
    return await run(registry);
  } finally {
    await storage.close();
  }
}

function storageOptions(command: Command): Command {
  return command
    .option("--json", "print JSON")
    .option("--tenant <id>", "a tenant's models (default: the operator's global models)")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory");
}

const formatMetrics = (metrics: Record<string, number>) =>
  Object.entries(metrics)
    .map(([key, value]) => `${key}=${Number(value.toPrecision(4))}`)
    .join(" ");

export function registerModels(program: Command): void {
  const models = program.command("models").description("The model registry: versions, aliases, promotion");

  storageOptions(models.command("list").description("List model versions with their aliases and test metrics")).action(
    async (flags: RegistryFlags) => {
      const list = await withRegistry(flags, (registry) => registry.listModels());
      if (flags.json) printJson(list);
      else
        printTable(
          list.map((row) => ({ ...row, aliases: row.aliases.join(",") || "-", metrics: formatMetrics(row.metrics) })),
          ["name", "version", "aliases", "metrics"],
        );
    },
  );

  storageOptions(
    models
      .command("show <ref>")
      .description("Show a version's model card, lineage, metrics and aliases (NAME, NAME@VERSION or NAME@ALIAS)"),
  ).action(async (ref: string, flags: RegistryFlags) => {
    const { parseModelRef } = await import("../../training/registry/registry.js");
    const parsed = parseModelRef(ref);
    const { version, history } = await withRegistry(flags, async (registry) => {
      const version = await registry.resolve(
        parsed.name,
        parsed.version !== undefined ? String(parsed.version) : parsed.alias,
      );
      return { version, history: await registry.aliasHistory(parsed.name) };
    });
    if (flags.json) {
      printJson({ ...version, aliasHistory: history });
      return;
    }
    const out = process.stdout;
    out.write(version.card);
    out.write(`\n## Registry\n\n`);
    out.write(
      `- version: ${version.version} (${version.format}, registered ${version.createdAt} by ${version.createdBy})\n`,
    );
    out.write(`- sha256: ${version.sha256}\n`);
    out.write(`- aliases: ${version.aliases.join(", ") || "none"}\n`);
    out.write(`- lineage: ${JSON.stringify(version.lineage)}\n`);
    out.write(`- metrics: ${formatMetrics(version.metrics) || "none"}\n`);
    const profile = version.referenceProfile;
    out.write(
      `- drift reference profile: ${profile ? `${profile.source}, ${profile.rows} rows, columns ${profile.columns.join(", ")}` : "none (live drift is not watched)"}\n`,
    );
    const moves = history.filter(
      (change) => change.toVersion === version.version || change.fromVersion === version.version,
    );
    for (const change of moves)
      out.write(
        `- ${change.createdAt} ${change.alias}: v${change.fromVersion ?? "-"} -> v${change.toVersion} by ${change.actor}${change.overridden ? ` (override: ${change.reason})` : ""}\n`,
      );
  });

  storageOptions(
    models
      .command("promote <ref>")
      .description("Point an alias at NAME@VERSION; refused when worse than the alias's version on the same test set")
      .requiredOption("--alias <alias>", "alias to move, e.g. production or staging")
      .option("--override-reason <text>", "promote even if the gate refuses; the reason is recorded"),
  ).action(async (ref: string, flags: RegistryFlags & { alias: string; overrideReason?: string }) => {
    const { parseModelRef } = await import("../../training/registry/registry.js");
    const parsed = parseModelRef(ref);
    if (parsed.version === undefined) throw new UsageError("promote needs NAME@VERSION (a version number)");
    const result = await withRegistry(flags, (registry) =>
      registry.promote(parsed.name, parsed.version as number, flags.alias, {
        ...(flags.overrideReason === undefined ? {} : { override: { reason: flags.overrideReason } }),
        actor: "admin",
      }),
    );
    if (flags.json) printJson({ ...result.change, gate: result.decision });
    else
      process.stdout.write(
        `${parsed.name}@${flags.alias}: v${result.change.fromVersion ?? "-"} -> v${result.change.toVersion}${result.change.overridden ? ` (gate overridden: ${result.change.reason})` : ""}\n`,
      );
  });

  storageOptions(
    models
      .command("register")
      .description("Register an artifact (a trainer output directory or an .onnx file) as a new version")
      .requiredOption("--name <name>", "model name")
      .requiredOption("--artifact <path>", "artifact directory or .onnx file")
      .option("--run <id>", "tracking run that produced it")
      .option("--dataset <name@version>", "dataset version it was trained and evaluated on")
      .option("--split-seed <n>", "seed of the split its metrics were measured on", parseSeed)
      .option("--metrics <file>", "metrics JSON (flat numbers), instead of the artifact's metrics.json")
      .option("--description <text>", "intended use, for the model card")
      .option(
        "--reference-profile <file>",
        "drift reference for an artifact without reference-profile.json: a profile .json, or a .csv of reference rows named like the model's inputs",
      )
      .option("--reference-prediction <column>", "CSV reference: the column holding the model's outputs"),
  ).action(
    async (
      flags: RegistryFlags & {
        name: string;
        artifact: string;
        run?: string;
        dataset?: string;
        splitSeed?: number;
        metrics?: string;
        description?: string;
        referenceProfile?: string;
        referencePrediction?: string;
      },
    ) => {
      const { resolve } = await import("node:path");
      const { readFile } = await import("node:fs/promises");
      const { flatMetrics } = await import("../../training/registry/signature.js");
      let dataset: { name: string; version: string } | undefined;
      if (flags.dataset !== undefined) {
        const at = flags.dataset.indexOf("@");
        if (at <= 0 || at === flags.dataset.length - 1) throw new UsageError("--dataset must be NAME@VERSION");
        dataset = { name: flags.dataset.slice(0, at), version: flags.dataset.slice(at + 1) };
      }
      const metrics =
        flags.metrics === undefined
          ? undefined
          : flatMetrics(JSON.parse(await readFile(resolve(flags.metrics), "utf8")));
      const version = await withRegistry(flags, (registry) =>
        registry.register({
          name: flags.name,
          artifact: resolve(flags.artifact),
          lineage: {
            ...(flags.run === undefined ? {} : { runId: flags.run }),
            ...(dataset === undefined ? {} : { dataset }),
            ...(flags.splitSeed === undefined ? {} : { splitSeed: flags.splitSeed }),
          },
          ...(metrics === undefined ? {} : { metrics }),
          ...(flags.description === undefined ? {} : { description: flags.description }),
          ...(flags.referenceProfile === undefined
            ? {}
            : {
                reference: {
                  file: resolve(flags.referenceProfile),
                  ...(flags.referencePrediction === undefined ? {} : { predictionColumn: flags.referencePrediction }),
                },
              }),
        }),
      );
      if (flags.json) printJson(version);
      else process.stdout.write(`registered ${version.name} v${version.version} (sha256 ${version.sha256})\n`);
    },
  );

  program
    .command("deploy <name>")
    .description("Point a predict endpoint in the config file at registry:NAME@ALIAS (other config untouched)")
    .requiredOption("--alias <alias>", "alias the endpoint follows, e.g. production")
    .requiredOption("--endpoint <endpoint>", "endpoint name clients use")
    .option("--weight <n>", "add or re-weight this target beside the endpoint's others (canary)", parseWeight)
    .option("--config <file>", "config file to edit (default ./modelport.yaml; created when missing)")
    .option("--data-dir <dir>", "data directory")
    .option("--tenant <id>", "a tenant's models")
    .option("--json", "print JSON")
    .action(async (name: string, flags: RegistryFlags & { alias: string; endpoint: string; weight?: number }) => {
      const { existsSync } = await import("node:fs");
      const { readFile, rename, writeFile } = await import("node:fs/promises");
      const { resolve } = await import("node:path");
      const { defaultConfigFile } = await import("../../config/settings.js");
      const { registryTargetModel, upsertRegistryEndpoint } = await import("../../training/registry/deploy-config.js");
      const { validateAlias, validateModelName } = await import("../../training/registry/registry.js");
      validateModelName(name);
      validateAlias(flags.alias);
      const path = resolve(flags.config ?? defaultConfigFile);
      const exists = existsSync(path);
      // The model must exist; an alias not set yet is only a warning (deploy first, promote after).
      const version = await withRegistry({ ...flags, config: exists ? path : undefined }, async (registry) => {
        await registry.resolve(name);
        return registry.resolveAlias(name, flags.alias);
      });
      if (version === undefined)
        process.stderr.write(
          `modelport: warning: ${name}@${flags.alias} points at no version yet; the endpoint is not ready until you promote one\n`,
        );
      const before = exists ? await readFile(path, "utf8") : "";
      const after = upsertRegistryEndpoint(
        before,
        {
          endpoint: flags.endpoint,
          name,
          alias: flags.alias,
          ...(flags.weight === undefined ? {} : { weight: flags.weight }),
        },
        path.endsWith(".json") ? "json" : "yaml",
      );
      const temporary = `${path}.tmp-${process.pid}`;
      await writeFile(temporary, after);
      await rename(temporary, path);
      const model = registryTargetModel(name, flags.alias);
      if (flags.json) printJson({ config: path, endpoint: flags.endpoint, model, version: version ?? null });
      else
        process.stdout.write(
          `endpoint ${flags.endpoint} -> ${model}${version === undefined ? "" : ` (v${version})`} in ${path}; a running server rolls over when the alias moves, reload the config to add the endpoint\n`,
        );
    });
}
