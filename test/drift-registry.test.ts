import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ModelportError } from "../src/core/errors.js";
import { createAlertDispatcher } from "../src/monitoring/alerts/dispatcher.js";
import { createProfileBuilder, parseReferenceProfile } from "../src/monitoring/drift/index.js";
import { createDriftStore, createDriftWatch } from "../src/monitoring/drift-watch/index.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createModelRegistry, type ModelRegistry } from "../src/training/registry/index.js";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";
import { spamTrainingRows, writeSpamArtifact } from "./registry-artifacts.js";

const code = (expected: string, pattern?: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === expected && (pattern === undefined || pattern.test(error.message));

/** What the trainer writes: the training texts and the model's predicted labels. */
function spamProfile() {
  const builder = createProfileBuilder({
    features: [{ name: "text", type: "text" }],
    prediction: { name: "label", type: "categorical" },
  });
  for (const [text, label] of spamTrainingRows) builder.addRow({ text, label });
  return builder.finish();
}

function driftRegistrySuite(
  label: string,
  open: (dataDir: string) => Promise<DatabaseHandle>,
  cleanup: () => Promise<void>,
) {
  describe(`drift reference profiles in the registry on ${label}`, () => {
    let handle: DatabaseHandle;
    let dataDir: string;
    let registry: ModelRegistry;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "modelport-drift-registry-"));
      handle = await open(dataDir);
      registry = createModelRegistry({ db: handle.db, dialect: handle.dialect, dataDir });
    });
    after(async () => {
      await handle?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      await cleanup();
    });

    test("the artifact's reference-profile.json is recorded with the version and shown", async () => {
      const artifact = join(dataDir, "in", "with-profile");
      await writeSpamArtifact(artifact);
      const profile = spamProfile();
      await writeFile(join(artifact, "reference-profile.json"), JSON.stringify(profile));
      const version = await registry.register({ name: "spam", artifact });
      const summary = { source: "artifact", rows: 4, columns: ["text.length", "text.vocabulary", "label"] };
      assert.deepEqual(version.referenceProfile, summary);
      assert.match(version.card, /Drift reference profile: 4 rows \(the training split\), columns `text\.length`/);
      assert.deepEqual((await registry.get("spam", 1)).referenceProfile, summary);
      assert.deepEqual((await registry.resolve("spam")).referenceProfile, summary);
      assert.deepEqual(parseReferenceProfile(await registry.referenceProfile("spam", 1)), profile);
      // The file is part of the artifact, so the sha256 covers it.
      assert.ok((await readdir(registry.directoryOf("spam", 1))).includes("reference-profile.json"));
    });

    test("no profile: null, and the card says drift is not watched", async () => {
      const artifact = join(dataDir, "in", "without-profile");
      await writeSpamArtifact(artifact);
      const version = await registry.register({ name: "spam", artifact });
      assert.equal(version.version, 2);
      assert.equal(version.referenceProfile, null);
      assert.match(version.card, /No drift reference profile: live drift is not watched/);
      assert.equal(await registry.referenceProfile("spam", 2), undefined);
      const all = await registry.versions("spam");
      assert.deepEqual(
        all.map((v) => [v.version, v.referenceProfile?.source ?? null]),
        [
          [2, null],
          [1, "artifact"],
        ],
      );
    });

    test("a CSV reference: types inferred, the signature's output column is the prediction", async () => {
      const artifact = join(dataDir, "in", "csv-ref");
      await writeSpamArtifact(artifact);
      const csv = join(dataDir, "in", "spam-reference.csv");
      await writeFile(
        csv,
        'text,label\n"win free money now",spam\n"meeting at noon tomorrow",ham\n"lunch at noon",ham\n',
      );
      const version = await registry.register({ name: "spam-csv", artifact, reference: { file: csv } });
      assert.deepEqual(version.referenceProfile, {
        source: "csv",
        rows: 3,
        columns: ["text.length", "text.vocabulary", "label"],
      });
      const profile = parseReferenceProfile(await registry.referenceProfile("spam-csv", 1));
      assert.deepEqual(profile.features, [{ name: "text", type: "text" }]);
      assert.deepEqual(profile.prediction, { name: "label", type: "categorical" });
    });

    test("an external ONNX file: CSV columns NAME[j] of its [N, k] input, an explicit prediction column", async () => {
      const onnx = join(dataDir, "in", "external.onnx");
      await writeTinyOnnxClassifier(onnx);
      const csv = join(dataDir, "in", "external-reference.csv");
      await writeFile(csv, "x[0],x[1],x[2],x[3],probabilities[1]\n1,2,3,4,0.2\n0,-1,0.5,2,0.7\n");
      const version = await registry.register({
        name: "external",
        artifact: onnx,
        reference: { file: csv, predictionColumn: "probabilities[1]" },
      });
      assert.equal(version.format, "onnx");
      assert.deepEqual(version.referenceProfile?.columns, ["x[0]", "x[1]", "x[2]", "x[3]", "probabilities[1]"]);
      const profile = parseReferenceProfile(await registry.referenceProfile("external", 1));
      assert.deepEqual(profile.prediction, { name: "probabilities[1]", type: "numeric" });

      const json = join(dataDir, "in", "external-profile.json");
      await writeFile(json, JSON.stringify(profile));
      const second = await registry.register({ name: "external", artifact: onnx, reference: { file: json } });
      assert.equal(second.referenceProfile?.source, "json");
    });

    test("refuses ambiguous, unknown or mismatched references, and registers nothing", async () => {
      const artifact = join(dataDir, "in", "refused");
      await writeSpamArtifact(artifact);
      await writeFile(join(artifact, "reference-profile.json"), JSON.stringify(spamProfile()));
      const csv = join(dataDir, "in", "other.csv");
      await writeFile(csv, "body,label\nhello there,ham\n");
      await assert.rejects(
        registry.register({ name: "refused", artifact, reference: { file: csv } }),
        code("MP_INVALID_REQUEST", /already has reference-profile\.json/),
      );
      const plain = join(dataDir, "in", "refused-plain");
      await writeSpamArtifact(plain);
      await assert.rejects(
        registry.register({ name: "refused", artifact: plain, reference: { file: csv } }),
        code("MP_INVALID_REQUEST", /features body are not inputs of the model \(text\)/),
      );
      await assert.rejects(
        registry.register({ name: "refused", artifact: plain, reference: { file: join(dataDir, "in", "x.txt") } }),
        code("MP_INVALID_REQUEST", /profile \.json or a \.csv/),
      );
      const notProfile = join(dataDir, "in", "not-profile.json");
      await writeFile(notProfile, JSON.stringify({ hello: "world" }));
      await assert.rejects(
        registry.register({ name: "refused", artifact: plain, reference: { file: notProfile } }),
        code("MP_INVALID_REQUEST", /not a modelport drift profile/),
      );
      await writeFile(join(plain, "reference-profile.json"), "{ broken");
      await assert.rejects(registry.register({ name: "refused", artifact: plain }), code("MP_INVALID_REQUEST"));
      await assert.rejects(registry.resolve("refused"), code("MP_NOT_FOUND"));
    });

    test("drift windows and reports round-trip through the store", async () => {
      const now = Date.parse("2026-11-22T12:00:00Z");
      const clock = { now: () => now, monotonic: () => now };
      const alerts = createAlertDispatcher({ db: handle.db, clock, webhooksFor: async () => [] });
      const watchOn = () =>
        createDriftWatch({
          store: createDriftStore(handle.db),
          clock,
          alerts,
          settings: { windowMs: 3_600_000, minRows: 3, driftShare: 0.5 },
          profiles: {
            get: async (model, version) => parseReferenceProfile(await registry.referenceProfile(model, version)),
          },
          onError: (error) => assert.fail(error as Error),
        });
      const texts = ["buy cheap pills now now now", "cheap pills cheap", "pills pills pills pills", "now buy"];
      const first = watchOn();
      first.observe({
        endpoint: "spam-filter",
        target: "registry/spam@production",
        modelVersion: "1",
        inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
        outputs: [{ name: "label", datatype: "BYTES", shape: [texts.length], data: texts.map(() => "spam") }],
      });
      await first.windows("spam-filter");
      await first.persist();
      const second = watchOn();
      const [outcome] = await second.check("spam-filter");
      assert.equal(outcome?.status, "checked");
      assert.equal(outcome?.rows, 4);
      assert.deepEqual(
        outcome?.record?.report.columns.map((column) => column.name),
        ["text.length", "text.vocabulary", "label"],
      );
      const [stored] = await second.reports("spam-filter");
      assert.deepEqual(stored, { ...outcome?.record });
      await alerts.close();
    });
  });
}

driftRegistrySuite(
  "SQLite",
  (dataDir) => openDatabase({ dataDir }),
  async () => {},
);

const probe = await probePostgres();
if (probe.state !== "ready") reportPostgresUnavailable("drift reference profiles on PostgreSQL", probe);
else {
  let database: PostgresTestDatabase | undefined;
  driftRegistrySuite(
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
