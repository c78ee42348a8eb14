import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { AuditEventInput } from "../src/core/audit.js";
import { ModelportError } from "../src/core/errors.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createModelRegistry, type ModelRegistry, parseModelRef } from "../src/training/registry/index.js";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";
import { writeSpamArtifact } from "./registry-artifacts.js";

const code = (expected: string, pattern?: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === expected && (pattern === undefined || pattern.test(error.message));

const dataset = { name: "spam", version: "a".repeat(64) };

function registrySuite(
  label: string,
  open: (dataDir: string) => Promise<DatabaseHandle>,
  cleanup: () => Promise<void>,
) {
  describe(`model registry on ${label}`, () => {
    let handle: DatabaseHandle;
    let dataDir: string;
    let registry: ModelRegistry;
    let artifact: string;
    const audit: AuditEventInput[] = [];

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "modelport-registry-"));
      handle = await open(dataDir);
      let tick = Date.parse("2026-03-01T00:00:00Z");
      registry = createModelRegistry({
        db: handle.db,
        dialect: handle.dialect,
        dataDir,
        clock: { now: () => (tick += 1000), monotonic: () => performance.now() },
        audit: {
          record: async (event) => {
            audit.push(event);
          },
        },
      });
      artifact = join(dataDir, "inputs", "spam-v1");
      await writeSpamArtifact(artifact);
    });

    after(async () => {
      await handle?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      await cleanup();
    });

    test("register copies the artifact, records the manifest sha256, lineage, signature and a model card", async () => {
      const version = await registry.register({
        name: "spam-filter",
        artifact,
        lineage: { runId: "run_1", dataset, splitSeed: 42, parameters: { epochs: 3, optimizer: "adam" } },
      });
      assert.equal(version.version, 1);
      assert.equal(version.format, "tfjs");
      assert.equal(version.task, "classification");
      assert.deepEqual(version.metrics, { accuracy: 0.97, f1: 0.95 }, "flat numbers only; the report stays out");
      assert.deepEqual(version.signature?.labels, ["ham", "spam"]);
      assert.equal(version.lineage.runId, "run_1");

      const directory = join(dataDir, "models", "spam-filter", "1");
      const files = (await readdir(directory)).sort();
      assert.deepEqual(files, ["metrics.json", "model.json", "preprocessor.json", "signature.json", "weights.bin"]);
      // Recompute the documented digest independently: sha256 of sha256sum-style sorted lines.
      const manifest = (
        await Promise.all(
          files.map(
            async (file) =>
              `${createHash("sha256")
                .update(await readFile(join(directory, file)))
                .digest("hex")}  ${file}\n`,
          ),
        )
      ).join("");
      assert.equal(version.sha256, createHash("sha256").update(manifest).digest("hex"));

      assert.match(version.card, /^# spam-filter v1/);
      assert.match(version.card, /## Intended use\n\nClassifies inputs into one of 2 classes: `ham`, `spam`\./);
      assert.match(version.card, /Dataset `spam` version `a{64}`, split seed 42\./);
      assert.match(version.card, /\| accuracy \| 0\.97 \|/);
      assert.match(version.card, /\| epochs \| 3 \|/);
      assert.match(version.card, /## Limitations/);
      const shown = await registry.resolve("spam-filter", "1");
      assert.equal(shown.card, version.card, "the card is stored");
    });

    test("a second registration is version 2; list output has CONTRACT's shape", async () => {
      const second = await registry.register({
        name: "spam-filter",
        artifact,
        lineage: { dataset, splitSeed: 42 },
        metrics: { accuracy: 0.98, f1: 0.96 },
      });
      assert.equal(second.version, 2);
      const list = await registry.listModels();
      assert.deepEqual(list, [
        { name: "spam-filter", version: 2, aliases: [], metrics: { accuracy: 0.98, f1: 0.96 } },
        { name: "spam-filter", version: 1, aliases: [], metrics: { accuracy: 0.97, f1: 0.95 } },
      ]);
      for (const row of list) assert.deepEqual(Object.keys(row), ["name", "version", "aliases", "metrics"]);
    });

    test("a tampered artifact refuses to load; the untouched version loads", async () => {
      const loaded = await registry.open("spam-filter", 2);
      assert.equal(loaded.modelPath, join(dataDir, "models", "spam-filter", "2", "model.json"));
      assert.equal((loaded.preprocessor as { format: string }).format !== undefined, true);
      const weights = join(dataDir, "models", "spam-filter", "1", "weights.bin");
      await chmod(weights, 0o644);
      const bytes = await readFile(weights);
      bytes[0] = (bytes[0] as number) ^ 0xff;
      await writeFile(weights, bytes);
      await assert.rejects(
        registry.open("spam-filter", 1),
        code("MP_ARTIFACT_MODIFIED", /modified after registration/),
      );
      bytes[0] = (bytes[0] as number) ^ 0xff;
      await writeFile(weights, bytes);
      await registry.open("spam-filter", 1);
      // An added file changes the manifest too.
      await writeFile(join(dataDir, "models", "spam-filter", "1", "extra.txt"), "x");
      await assert.rejects(registry.open("spam-filter", 1), code("MP_ARTIFACT_MODIFIED"));
      await rm(join(dataDir, "models", "spam-filter", "1", "extra.txt"));
      await registry.open("spam-filter", 1);
    });

    test("aliases: promote, resolve NAME@ALIAS, history with from/to/actor", async () => {
      const first = await registry.promote("spam-filter", 1, "production", { actor: "key:ops" });
      assert.equal(first.change.fromVersion, null);
      assert.deepEqual(first.version.aliases, ["production"]);
      assert.equal((await registry.resolve("spam-filter", "production")).version, 1);
      const second = await registry.promote("spam-filter", 2, "production");
      assert.equal(second.change.fromVersion, 1);
      await registry.promote("spam-filter", 1, "staging");
      assert.equal(await registry.resolveAlias("spam-filter", "production"), 2);
      const history = await registry.aliasHistory("spam-filter", "production");
      assert.deepEqual(
        history.map(({ fromVersion, toVersion, actor, overridden }) => ({ fromVersion, toVersion, actor, overridden })),
        [
          { fromVersion: null, toVersion: 1, actor: "key:ops", overridden: false },
          { fromVersion: 1, toVersion: 2, actor: "admin", overridden: false },
        ],
      );
      const list = await registry.listModels();
      assert.deepEqual(
        list.map(({ version, aliases }) => ({ version, aliases })),
        [
          { version: 2, aliases: ["production"] },
          { version: 1, aliases: ["staging"] },
        ],
      );
      assert.equal(audit.at(-1)?.action, "model-promoted");
      assert.equal(audit.at(-1)?.target, "spam-filter@staging");
      await assert.rejects(registry.promote("spam-filter", 9, "production"), code("MP_NOT_FOUND"));
      await assert.rejects(registry.promote("spam-filter", 1, "123"), code("MP_INVALID_REQUEST"));
      await assert.rejects(registry.resolve("spam-filter", "nope"), code("MP_NOT_FOUND", /no alias 'nope'/));
    });

    test("promotion gate: refuses worse, allows equal/better and within threshold, override needs and records a reason", async () => {
      const worse = await registry.register({
        name: "spam-filter",
        artifact,
        lineage: { dataset, splitSeed: 42 },
        metrics: { accuracy: 0.95, f1: 0.9 },
      });
      await assert.rejects(
        registry.promote("spam-filter", worse.version, "production"),
        code("MP_PROMOTION_REFUSED", /accuracy 0\.95 is worse than v2 accuracy 0\.98 by 0\.03/),
      );
      assert.equal(await registry.resolveAlias("spam-filter", "production"), 2, "a refusal moves nothing");
      await assert.rejects(
        registry.promote("spam-filter", worse.version, "production", { override: { reason: "  " } }),
        code("MP_INVALID_REQUEST", /reason/),
      );
      const forced = await registry.promote("spam-filter", worse.version, "production", {
        override: { reason: "hotfix for tokenizer bug" },
        actor: "admin",
      });
      assert.equal(forced.change.overridden, true);
      const last = (await registry.aliasHistory("spam-filter", "production")).at(-1);
      assert.equal(last?.reason, "hotfix for tokenizer bug");
      assert.equal(last?.overridden, true);
      assert.equal(audit.at(-1)?.details?.overridden, true);
      assert.equal(audit.at(-1)?.details?.reason, "hotfix for tokenizer bug");

      // Within the 0.01 threshold of the current (0.95): allowed without override; better: allowed.
      const close = await registry.register({
        name: "spam-filter",
        artifact,
        lineage: { dataset, splitSeed: 42 },
        metrics: { accuracy: 0.941 },
      });
      const allowed = await registry.promote("spam-filter", close.version, "production");
      assert.equal(allowed.change.overridden, false);
      assert.equal(allowed.change.reason, null);

      // A different test set (split seed) is not comparable: refused unless overridden.
      const otherSplit = await registry.register({
        name: "spam-filter",
        artifact,
        lineage: { dataset, splitSeed: 7 },
        metrics: { accuracy: 0.999 },
      });
      await assert.rejects(
        registry.promote("spam-filter", otherSplit.version, "production"),
        code("MP_PROMOTION_REFUSED", /not evaluated on the same test set/),
      );
    });

    test("regression gate: lower rmse is better", async () => {
      const make = (rmse: number) =>
        registry.register({
          name: "boston",
          artifact,
          description: "House prices.",
          lineage: { dataset: { name: "boston", version: "b".repeat(64) }, splitSeed: 1 },
          metrics: { rmse, mae: rmse / 2 },
        });
      const base = await make(4.0);
      assert.equal(base.task, "classification", "signature.json says classification and wins over metric names");
      const onnxDir = join(dataDir, "inputs", "reg.onnx");
      await writeTinyOnnxClassifier(onnxDir);
      const reg1 = await registry.register({
        name: "boston-onnx",
        artifact: onnxDir,
        lineage: { dataset, splitSeed: 1 },
        metrics: { rmse: 4 },
      });
      const reg2 = await registry.register({
        name: "boston-onnx",
        artifact: onnxDir,
        lineage: { dataset, splitSeed: 1 },
        metrics: { rmse: 4.5 },
      });
      const reg3 = await registry.register({
        name: "boston-onnx",
        artifact: onnxDir,
        lineage: { dataset, splitSeed: 1 },
        metrics: { rmse: 3.2 },
      });
      assert.equal(reg1.task, "regression");
      assert.equal(reg1.format, "onnx");
      assert.equal(
        reg1.sha256,
        createHash("sha256")
          .update(await readFile(onnxDir))
          .digest("hex"),
        "single file: plain sha256",
      );
      await registry.promote("boston-onnx", 1, "production");
      await assert.rejects(
        registry.promote("boston-onnx", reg2.version, "production"),
        code("MP_PROMOTION_REFUSED", /rmse 4\.5/),
      );
      await registry.promote("boston-onnx", reg3.version, "production");
      assert.equal(await registry.resolveAlias("boston-onnx", "production"), 3);
    });

    test("namespaces: a tenant's models are separate and stored under models/@tenant", async () => {
      const tenant = registry.forNamespace("ten_alpha");
      assert.deepEqual(await tenant.listModels(), []);
      const version = await tenant.register({ name: "spam-filter", artifact });
      assert.equal(version.version, 1);
      assert.equal(tenant.directoryOf("spam-filter", 1), join(dataDir, "models", "@ten_alpha", "spam-filter", "1"));
      await tenant.open("spam-filter", 1);
      assert.equal((await registry.versions("spam-filter")).length, 5, "global namespace unchanged");
      await assert.rejects(tenant.resolve("boston"), code("MP_NOT_FOUND"));
    });

    test("bad input: names, artifacts, signature", async () => {
      await assert.rejects(registry.register({ name: "Bad Name", artifact }), code("MP_INVALID_REQUEST", /model name/));
      await assert.rejects(
        registry.register({ name: "x", artifact: join(dataDir, "missing") }),
        code("MP_INVALID_REQUEST", /cannot be read/),
      );
      const empty = join(dataDir, "inputs", "empty");
      await writeFile(join(dataDir, "inputs", "notes.txt"), "hi");
      await rm(empty, { recursive: true, force: true });
      await (await import("node:fs/promises")).mkdir(empty);
      await writeFile(join(empty, "readme.txt"), "no model");
      await assert.rejects(
        registry.register({ name: "x", artifact: empty }),
        code("MP_INVALID_REQUEST", /not a model artifact/),
      );
      await assert.rejects(
        registry.register({ name: "x", artifact: join(dataDir, "inputs", "notes.txt") }),
        code("MP_INVALID_REQUEST", /directory or an \.onnx file/),
      );
      const badSignature = join(dataDir, "inputs", "bad-signature");
      await writeSpamArtifact(badSignature);
      await writeFile(join(badSignature, "signature.json"), JSON.stringify({ inputs: [], outputs: [] }));
      await assert.rejects(
        registry.register({ name: "x", artifact: badSignature }),
        code("MP_INVALID_REQUEST", /signature/),
      );
      await assert.rejects(registry.resolve("x"), code("MP_NOT_FOUND"), "failed registrations leave no version");
      const leftovers = (await readdir(join(dataDir, "models", "x"))).filter((entry) => entry.startsWith("."));
      assert.deepEqual(leftovers, [], "no staging directories left behind");
      assert.deepEqual(parseModelRef("spam-filter@production"), { name: "spam-filter", alias: "production" });
      assert.deepEqual(parseModelRef("spam-filter@3"), { name: "spam-filter", version: 3 });
    });
  });
}

registrySuite(
  "SQLite",
  (dataDir) => openDatabase({ dataDir }),
  async () => {},
);

const probe = await probePostgres();
if (probe.state !== "ready") reportPostgresUnavailable("model registry on PostgreSQL", probe);
else {
  let database: PostgresTestDatabase | undefined;
  registrySuite(
    "PostgreSQL",
    async (dataDir) => {
      database = await createTestDatabase(probe.adminUrl);
      return openDatabase({ dataDir, databaseUrl: database.url });
    },
    async () => {
      await database?.drop();
    },
  );
}
