import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ModelportError } from "../src/core/errors.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { readGitCommit } from "../src/training/tracking/git-commit.js";
import { createTrackingStore, type TrackingStore } from "../src/training/tracking/tracking-store.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

const code = (expected: string) => (error: unknown) => error instanceof ModelportError && error.code === expected;

function trackingSuite(
  label: string,
  open: (dataDir: string) => Promise<DatabaseHandle>,
  cleanup: () => Promise<void>,
) {
  describe(`tracking store on ${label}`, () => {
    let handle: DatabaseHandle;
    let dataDir: string;
    let store: TrackingStore;
    let time = Date.parse("2026-01-01T00:00:00Z");
    const a = "ten_alpha";
    const b = "ten_beta";

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "modelport-tracking-"));
      handle = await open(dataDir);
      for (const id of [a, b]) {
        await handle.db.insertInto("tenants").values({ id, name: id, created_at: new Date().toISOString() }).execute();
      }
      store = createTrackingStore({ db: handle.db, clock: { now: () => time, monotonic: () => time } });
    });
    after(async () => {
      await handle?.close();
      await cleanup();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("create → start → metrics/params/artifacts → finish, with duration", async () => {
      const run = await store.createRun(a, {
        name: "first",
        params: { lr: 0.01, template: "mlp" },
        dataset: "spam@abc",
        gitCommit: "a".repeat(40),
      });
      assert.equal(run.status, "queued");
      assert.equal(run.startedAt, null);
      time += 1_000;
      const started = await store.startRun(a, run.id);
      assert.equal(started.status, "running");
      await store.logMetric(a, run.id, { name: "loss", value: 0.9, step: 1 });
      await store.logMetric(a, run.id, { name: "loss", value: 0.5, step: 2 });
      await store.logMetric(a, run.id, { name: "loss", value: 0.3 }); // step 3 by default
      await store.logMetric(a, run.id, { name: "accuracy", value: 0.75 }); // step 0 by default
      await store.logParams(a, run.id, { epochs: 5 });
      const file = join(dataDir, "model.bin");
      await writeFile(file, "weights");
      const artifact = await store.logArtifact(a, run.id, { path: "model.bin", baseDir: dataDir });
      assert.equal(artifact.path, "model.bin");
      assert.equal(artifact.sha256, createHash("sha256").update("weights").digest("hex"));
      assert.equal(artifact.size, 7);
      time += 2_500;
      const finished = await store.finishRun(a, run.id, { status: "succeeded" });
      assert.equal(finished.status, "succeeded");
      assert.equal(finished.durationMs, 2_500);

      const detail = await store.showRun(a, run.id);
      assert.deepEqual(detail.metrics.loss, [
        { step: 1, value: 0.9 },
        { step: 2, value: 0.5 },
        { step: 3, value: 0.3 },
      ]);
      assert.deepEqual(detail.finalMetrics, { accuracy: 0.75, loss: 0.3 });
      assert.deepEqual(detail.run.params, { lr: 0.01, template: "mlp", epochs: 5 });
      assert.equal(detail.run.dataset, "spam@abc");
      assert.equal(detail.run.gitCommit, "a".repeat(40));
      assert.equal(detail.artifacts.length, 1);
    });

    test("resetRun starts a clean attempt: the interrupted attempt's metrics, artifacts and timing go", async () => {
      const run = await store.createRun(a, { name: "retried", params: { epochs: 3 } });
      await store.startRun(a, run.id);
      await store.logMetric(a, run.id, { name: "loss", value: 0.9, step: 1 });
      const file = join(dataDir, "partial.bin");
      await writeFile(file, "half");
      await store.logArtifact(a, run.id, { path: "partial.bin", baseDir: dataDir });
      const queued = await store.resetRun(a, run.id, "queued");
      assert.equal(queued.status, "queued");
      assert.equal(queued.startedAt, null);
      const empty = await store.showRun(a, run.id);
      assert.deepEqual(empty.metrics, {});
      assert.deepEqual(empty.artifacts, []);
      assert.deepEqual(empty.run.params, { epochs: 3 }, "params are the job's, kept");
      time += 500;
      const running = await store.resetRun(a, run.id, "running");
      assert.equal(running.status, "running");
      assert.equal(running.startedAt, new Date(time).toISOString());
      // The same step can be logged again: the new attempt's points replace nothing and duplicate nothing.
      await store.logMetric(a, run.id, { name: "loss", value: 0.7, step: 1 });
      assert.deepEqual((await store.showRun(a, run.id)).metrics.loss, [{ step: 1, value: 0.7 }]);
      await assert.rejects(store.resetRun(b, run.id, "queued"), code("MP_NOT_FOUND"));
      await store.finishRun(a, run.id, { status: "succeeded" });
    });

    test("every read and write is tenant-scoped", async () => {
      const run = await store.createRun(a, { name: "private" });
      await assert.rejects(store.getRun(b, run.id), code("MP_NOT_FOUND"));
      await assert.rejects(store.showRun(b, run.id), code("MP_NOT_FOUND"));
      await assert.rejects(store.logMetric(b, run.id, { name: "loss", value: 1 }), code("MP_NOT_FOUND"));
      await assert.rejects(store.finishRun(b, run.id, { status: "failed" }), code("MP_NOT_FOUND"));
      await assert.rejects(store.compareRuns(b, [run.id, run.id]), code("MP_NOT_FOUND"));
      assert.equal((await store.listRuns(b)).length, 0);
      assert.ok((await store.listRuns(a)).some((r) => r.id === run.id));
      assert.equal((await store.getRun(a, run.id)).status, "queued", "b's attempts changed nothing");
    });

    test("list filters by status, newest first; compare puts params and final metrics side by side", async () => {
      time += 10_000;
      const x = await store.createRun(a, { name: "x", params: { lr: 0.1, hidden: [8] }, status: "running" });
      time += 1_000;
      const y = await store.createRun(a, { name: "y", params: { lr: 0.01, optimizer: "sgd" }, status: "running" });
      await store.logMetric(a, x.id, { name: "accuracy", value: 0.8 });
      await store.logMetric(a, x.id, { name: "accuracy", value: 0.9 });
      await store.logMetric(a, y.id, { name: "accuracy", value: 0.95 });
      await store.logMetric(a, y.id, { name: "f1", value: 0.93 });
      await store.finishRun(a, y.id, { status: "failed", error: "boom", exitCode: 3 });
      const running = await store.listRuns(a, { status: "running" });
      assert.deepEqual(
        running.map((r) => r.name),
        ["x"],
      );
      const all = await store.listRuns(a);
      assert.equal(all[0]?.id, y.id, "newest first");
      const failed = await store.getRun(a, y.id);
      assert.equal(failed.error, "boom");
      assert.equal(failed.exitCode, 3);
      const comparison = await store.compareRuns(a, [x.id, y.id]);
      assert.deepEqual(
        comparison.runs.map((r) => r.name),
        ["x", "y"],
      );
      assert.deepEqual(comparison.params, { hidden: [[8], null], lr: [0.1, 0.01], optimizer: [null, "sgd"] });
      assert.deepEqual(comparison.metrics, { accuracy: [0.9, 0.95], f1: [null, 0.93] });
    });

    test("bad input is refused", async () => {
      const run = await store.createRun(a);
      assert.equal(run.name, run.id, "unnamed runs are named by their id");
      await assert.rejects(store.logMetric(a, run.id, { name: "bad name!", value: 1 }), code("MP_INVALID_REQUEST"));
      await assert.rejects(store.logMetric(a, run.id, { name: "loss", value: Number.NaN }), code("MP_INVALID_REQUEST"));
      await assert.rejects(
        store.logMetric(a, run.id, { name: "loss", value: 1, step: -1 }),
        code("MP_INVALID_REQUEST"),
      );
      await assert.rejects(
        store.logArtifact(a, run.id, { path: "missing.onnx", baseDir: dataDir }),
        code("MP_INVALID_REQUEST"),
      );
      await assert.rejects(store.compareRuns(a, [run.id]), code("MP_INVALID_REQUEST"));
      await assert.rejects(store.listRuns(a, { status: "paused" as "running" }), code("MP_INVALID_REQUEST"));
      await assert.rejects(store.finishRun(a, run.id, { status: "running" as "failed" }), code("MP_INVALID_REQUEST"));
      await assert.rejects(store.createRun("ten_nobody"), code("MP_STORAGE_ERROR"), "unknown tenant");
    });
  });
}

test("readGitCommit: a 40-hex commit inside this repository, null outside any", async () => {
  const commit = await readGitCommit(process.cwd());
  assert.match(commit ?? "", /^[0-9a-f]{40}$/);
  const outside = await mkdtemp(join(tmpdir(), "modelport-nogit-"));
  try {
    assert.equal(await readGitCommit(outside), null);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

trackingSuite(
  "SQLite",
  (dataDir) => openDatabase({ dataDir }),
  async () => {},
);

const probe = await probePostgres();
if (probe.state !== "ready") {
  reportPostgresUnavailable("tracking store on PostgreSQL", probe);
} else {
  let database: PostgresTestDatabase | undefined;
  trackingSuite(
    "PostgreSQL",
    async (dataDir) => {
      database = await createTestDatabase(probe.adminUrl);
      return openDatabase({ databaseUrl: database.url, dataDir });
    },
    async () => {
      await database?.drop();
    },
  );
}
