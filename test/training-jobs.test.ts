import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createBullMqJobRunner } from "../src/training/jobs/bullmq-runner.js";
import { createInProcessJobRunner } from "../src/training/jobs/in-process-runner.js";
import { formatProgressLine } from "../src/training/jobs/progress-line.js";
import {
  createTrainingJobProcessor,
  enqueueTraining,
  type TrainingJobPayload,
  type TrainingJobResult,
} from "../src/training/jobs/training-jobs.js";
import type { JobEvent } from "../src/training/jobs/types.js";
import { createTrackingStore } from "../src/training/tracking/tracking-store.js";
import { openTrainingBench, type TrainingBench, tabularTable } from "./training-helpers.js";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("in-process job queue", () => {
  test("runs one job at a time in FIFO order, streams progress, records results and failures", async () => {
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const runner = createInProcessJobRunner<{ name: string; fail?: boolean }, string>({
      process: async (payload, context) => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(payload.name);
        for (let step = 1; step <= 3; step++) {
          await delay(5);
          context.report({ step });
        }
        active--;
        if (payload.fail) throw new Error(`${payload.name} broke`);
        return `${payload.name} done`;
      },
    });
    const first = await runner.enqueue({ name: "a" });
    assert.equal(first.status, "queued");
    const events: JobEvent[] = [];
    runner.subscribe(first.id, (event) => events.push(event));
    const second = await runner.enqueue({ name: "b", fail: true });
    const third = await runner.enqueue({ name: "c" });
    assert.equal((await runner.get(third.id))?.status, "queued");

    const done = await runner.waitFor(first.id, 5_000);
    assert.equal(done.status, "succeeded");
    assert.equal(done.result, "a done");
    assert.deepEqual(
      events.map((event) =>
        event.type === "progress" ? `p${(event.progress as { step: number }).step}` : event.status,
      ),
      ["running", "p1", "p2", "p3", "succeeded"],
    );
    const failed = await runner.waitFor(second.id, 5_000);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error, "b broke");
    assert.equal((await runner.waitFor(third.id, 5_000)).status, "succeeded");
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.equal(maxActive, 1, "concurrency 1 by default");
    assert.deepEqual(
      (await runner.list()).map((job) => job.payload.name),
      ["c", "b", "a"],
    );
    await assert.rejects(runner.waitFor("job_missing"), /no job/);
    await runner.close();
    await assert.rejects(runner.enqueue({ name: "late" }), /closed/);
  });

  test("concurrency option runs jobs side by side; invalid values are refused", async () => {
    let active = 0;
    let maxActive = 0;
    const runner = createInProcessJobRunner<number, number>({
      concurrency: 2,
      process: async (n) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await delay(20);
        active--;
        return n * 2;
      },
    });
    const jobs = await Promise.all([1, 2, 3, 4].map((n) => runner.enqueue(n)));
    const results = await Promise.all(jobs.map((job) => runner.waitFor(job.id, 5_000)));
    assert.deepEqual(
      results.map((job) => job.result),
      [2, 4, 6, 8],
    );
    assert.equal(maxActive, 2);
    assert.throws(() => createInProcessJobRunner({ concurrency: 0, process: async () => 1 }), /concurrency/);
  });
});

describe("training jobs with tracking", () => {
  let bench: TrainingBench;
  before(async () => {
    bench = await openTrainingBench();
  });
  after(async () => {
    await bench?.close();
  });

  test("a queued training job records its run: status, per-epoch metrics, test metrics, artifacts", async () => {
    await bench.load("tabular", tabularTable(200));
    const tracking = createTrackingStore({ db: bench.handle.db });
    const runner = createInProcessJobRunner<TrainingJobPayload, TrainingJobResult>({
      process: createTrainingJobProcessor({
        datasets: bench.datasets,
        tracking,
        artifactsDir: join(bench.dataDir, "runs"),
        progressIntervalMs: 0,
      }),
    });
    const { run, job } = await enqueueTraining(
      runner,
      { datasets: bench.datasets, tracking },
      {
        tenantId: bench.tenantId,
        dataset: "tabular",
        template: "mlp",
        hyperparameters: { epochs: 3, patience: 0 },
        seed: 3,
      },
    );
    assert.equal(job.id, run.id, "the job id is the run id");
    assert.equal(run.status, "queued");
    assert.match(run.dataset ?? "", /^tabular@[0-9a-f]{64}$/);
    const progress: string[] = [];
    runner.subscribe(run.id, (event) => {
      if (event.type === "progress") {
        const p = event.progress as { phase: string; epoch: number; runId: string };
        assert.equal(p.runId, run.id);
        if (p.phase === "epoch") progress.push(`epoch ${p.epoch}`);
      }
    });
    const finished = await runner.waitFor(run.id, 60_000);
    assert.equal(finished.status, "succeeded", finished.error ?? "");
    assert.deepEqual(progress, ["epoch 1", "epoch 2", "epoch 3"]);
    const detail = await tracking.showRun(bench.tenantId, run.id);
    assert.equal(detail.run.status, "succeeded");
    assert.ok((detail.run.durationMs ?? -1) >= 0);
    assert.deepEqual(
      detail.metrics.loss?.map((point) => point.step),
      [1, 2, 3],
    );
    assert.equal(detail.metrics.val_accuracy?.length, 3);
    assert.equal(detail.finalMetrics.test_accuracy, finished.result?.metrics.accuracy);
    // Every file of the artifact directory is logged (other features add files, e.g. drift's reference profile).
    const directory = join(bench.dataDir, "runs", bench.tenantId, run.id);
    const files = (await readdir(directory, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
    const logged = detail.artifacts.map((artifact) => artifact.path).sort();
    assert.deepEqual(logged, files);
    for (const name of [
      "labels.json",
      "metrics.json",
      "model.json",
      "preprocessor.json",
      "signature.json",
      "weights.bin",
    ])
      assert.ok(logged.includes(name), `${name} logged`);
    assert.ok((await stat(join(bench.dataDir, "runs", bench.tenantId, run.id, "model.json"))).isFile());
    assert.deepEqual(detail.run.params, { template: "mlp", seed: 3, epochs: 3, patience: 0 });
    await runner.close();
  });

  test("a failing training job marks the run failed with the reason", async () => {
    await bench.load("tabular", tabularTable(200));
    const tracking = createTrackingStore({ db: bench.handle.db });
    const runner = createInProcessJobRunner<TrainingJobPayload, TrainingJobResult>({
      process: createTrainingJobProcessor({
        datasets: bench.datasets,
        tracking,
        artifactsDir: join(bench.dataDir, "runs"),
      }),
    });
    // bow needs a text column: the job fails after it started.
    const { run } = await enqueueTraining(
      runner,
      { datasets: bench.datasets, tracking },
      { tenantId: bench.tenantId, dataset: "tabular", template: "bow" },
    );
    const finished = await runner.waitFor(run.id, 30_000);
    assert.equal(finished.status, "failed");
    assert.match(finished.error ?? "", /text column/);
    const stored = await tracking.getRun(bench.tenantId, run.id);
    assert.equal(stored.status, "failed");
    assert.match(stored.error ?? "", /text column/);
    await assert.rejects(
      enqueueTraining(
        runner,
        { datasets: bench.datasets, tracking },
        { tenantId: bench.tenantId, dataset: "nope", template: "mlp" },
      ),
      /no dataset named 'nope'/,
    );
    await runner.close();
  });
});

test("progress line shows epoch, bar, loss and validation metrics", () => {
  const line = formatProgressLine({
    epoch: 3,
    epochs: 6,
    loss: 0.123456,
    valLoss: 0.08,
    metrics: { val_accuracy: 0.98 },
    batch: 55,
    batches: 110,
    phase: "batch",
    elapsedMs: 12_345,
  });
  assert.equal(line, "epoch 3/6 [##########----------] 55/110 loss 0.1235 val_loss 0.08000 val_accuracy 0.9800 12.3s");
});

const redisUrl = process.env.MODELPORT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

if (process.env.MODELPORT_TEST_SKIP_REDIS === "1") {
  test("BullMQ job runner", { skip: "MODELPORT_TEST_SKIP_REDIS=1 is set" }, () => {});
} else {
  describe("BullMQ job runner (Redis)", () => {
    test("a job enqueued by a producer-only queue is processed by a separate worker; progress and result stream back", async () => {
      assert.ok(await redisReachable(), `Redis is required at ${redisUrl} (set MODELPORT_TEST_SKIP_REDIS=1 to skip)`);
      const prefix = `mp-test-${randomBytes(6).toString("hex")}`;
      const queueName = "training";
      const producer = await createBullMqJobRunner<{ n: number; fail?: boolean }, { doubled: number }>({
        redisUrl,
        prefix,
        queueName,
      });
      const worker = await createBullMqJobRunner<{ n: number; fail?: boolean }, { doubled: number }>({
        redisUrl,
        prefix,
        queueName,
        process: async (payload, context) => {
          for (let step = 1; step <= 3; step++) {
            context.report({ step });
            await delay(30);
          }
          if (payload.fail) throw new Error("worker refused");
          return { doubled: payload.n * 2 };
        },
      });
      try {
        const job = await producer.enqueue({ n: 21 });
        const events: JobEvent[] = [];
        producer.subscribe(job.id, (event) => events.push(event));
        const done = await producer.waitFor(job.id, 15_000);
        assert.equal(done.status, "succeeded");
        assert.deepEqual(done.result, { doubled: 42 });
        assert.deepEqual(done.payload, { n: 21 });
        await delay(200); // QueueEvents arrive on their own connection
        const steps = events
          .filter((event) => event.type === "progress")
          .map((event) => (event.progress as { step: number }).step);
        assert.ok(
          steps.length >= 1 && steps.every((step, i) => i === 0 || step > (steps[i - 1] as number)),
          `steps ${steps}`,
        );
        assert.ok(events.some((event) => event.type === "status" && event.status === "succeeded"));

        const failing = await producer.enqueue({ n: 1, fail: true });
        const failed = await producer.waitFor(failing.id, 15_000);
        assert.equal(failed.status, "failed");
        assert.equal(failed.error, "worker refused");
        const listed = await producer.list();
        assert.deepEqual(new Set(listed.map((record) => record.id)), new Set([job.id, failing.id]));
        assert.equal(await producer.get("job_unknown"), undefined);
      } finally {
        await producer.close();
        await worker.close();
        // Remove every key of this run's prefix.
        const redis = new Redis(redisUrl);
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    });

    test("an unreachable Redis fails with MP_STORAGE_ERROR", async () => {
      await assert.rejects(
        createBullMqJobRunner({ redisUrl: "redis://127.0.0.1:1", prefix: "mp-none" }),
        (error: unknown) => (error as { code?: string }).code === "MP_STORAGE_ERROR",
      );
    });
  });
}
