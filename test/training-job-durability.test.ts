import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createBullMqJobRunner } from "../src/training/jobs/bullmq-runner.js";
import {
  createInProcessJobRunner,
  interruptedJobError,
  openInProcessJobRunner,
} from "../src/training/jobs/in-process-runner.js";
import { createFileJobJournal } from "../src/training/jobs/job-journal.js";
import type { JobContext, JobRecord } from "../src/training/jobs/types.js";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A job that runs until it is told to finish, or until its signal aborts it. */
function controllableProcessor() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const process = (payload: { name: string }, context: JobContext) =>
    new Promise<string>((resolve, reject) => {
      started.push(payload.name);
      finishers.set(payload.name, () => resolve(`${payload.name} done`));
      context.signal.addEventListener("abort", () => reject(new Error("training was cancelled")), { once: true });
    });
  return { started, finish: (name: string) => finishers.get(name)?.(), process };
}

describe("in-process queue journal: an accepted job is never lost", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-journal-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a graceful close puts the running job back in the queue; the next start runs every queued job in order", async () => {
    const journalDir = join(dir, "graceful");
    const first = controllableProcessor();
    const runner = createInProcessJobRunner({
      process: first.process,
      journal: createFileJobJournal<{ name: string }, string>(journalDir),
    });
    const a = await runner.enqueue({ name: "a" });
    const b = await runner.enqueue({ name: "b" });
    // Written before enqueue() returned.
    assert.deepEqual((await readdir(journalDir)).sort(), [`${a.id}.json`, `${b.id}.json`].sort());
    while (first.started.length === 0) await delay(5);
    assert.equal((await runner.get(a.id))?.status, "running");
    assert.deepEqual(await runner.counts(), { queued: 1, running: 1, succeeded: 0, failed: 0 });
    const events: string[] = [];
    runner.subscribe(a.id, (event) => events.push(event.type === "status" ? event.status : "progress"));
    await runner.close();
    assert.deepEqual(events, ["queued"], "the aborted job went back to queued, not failed");
    await assert.rejects(runner.enqueue({ name: "late" }), /closed/);
    const stored = (JSON.parse(await readFile(join(journalDir, `${a.id}.json`), "utf8")) as { record: JobRecord })
      .record;
    assert.equal(stored.status, "queued");
    assert.equal(stored.startedAt, null);

    const second = controllableProcessor();
    const interrupted: string[] = [];
    const restarted = await openInProcessJobRunner({
      process: second.process,
      journal: createFileJobJournal<{ name: string }, string>(journalDir),
      onInterrupted: async (record) => {
        interrupted.push(record.id);
      },
    });
    while (second.started.length === 0) await delay(5);
    second.finish("a");
    assert.equal((await restarted.waitFor(a.id, 5_000)).result, "a done");
    while (second.started.length < 2) await delay(5);
    second.finish("b");
    assert.equal((await restarted.waitFor(b.id, 5_000)).status, "succeeded");
    assert.deepEqual(second.started, ["a", "b"], "original order");
    assert.deepEqual(interrupted, []);
    await restarted.close();
    const final = (JSON.parse(await readFile(join(journalDir, `${b.id}.json`), "utf8")) as { record: JobRecord })
      .record;
    assert.equal(final.status, "succeeded");
    assert.equal(final.result, "b done");
  });

  test("a job that was running when the process died is marked failed as interrupted, not restarted", async () => {
    const journalDir = join(dir, "crash");
    const journal = createFileJobJournal<{ name: string }, string>(journalDir);
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    // What a killed process leaves behind: one job running, one queued, one finished.
    const running: JobRecord<{ name: string }, string> = {
      id: "job_running",
      status: "running",
      payload: { name: "big" },
      createdAt,
      startedAt: createdAt,
      endedAt: null,
      progress: { epoch: 2 },
      result: null,
      error: null,
    };
    await journal.save(running);
    await journal.save({ ...running, id: "job_queued", status: "queued", payload: { name: "next" }, startedAt: null });
    await journal.save({ ...running, id: "job_done", status: "succeeded", result: "old", endedAt: createdAt });
    await writeFile(join(journalDir, "job_torn.json.tmp_x"), "{ half a rec");

    const processor = controllableProcessor();
    const interrupted: JobRecord[] = [];
    const runner = await openInProcessJobRunner({
      process: processor.process,
      journal,
      onInterrupted: async (record) => {
        interrupted.push(record);
      },
    });
    const failed = await runner.get("job_running");
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.error, interruptedJobError);
    assert.match(failed?.error ?? "", /^interrupted: the server stopped while this job was running/);
    assert.ok(failed?.endedAt);
    assert.deepEqual(
      interrupted.map((record) => record.id),
      ["job_running"],
    );
    while (processor.started.length === 0) await delay(5);
    assert.deepEqual(processor.started, ["next"], "only the queued job runs again");
    processor.finish("next");
    assert.equal((await runner.waitFor("job_queued", 5_000)).status, "succeeded");
    assert.equal((await runner.get("job_done"))?.result, "old", "finished jobs stay listed");
    await runner.close();
    const reread = await createFileJobJournal<{ name: string }, string>(journalDir).load();
    assert.deepEqual(Object.fromEntries(reread.map((record) => [record.id, record.status])), {
      job_running: "failed",
      job_queued: "succeeded",
      job_done: "succeeded",
    });
  });

  test("a journal that cannot be written refuses the job instead of accepting it", async () => {
    const blocker = join(dir, "not-a-directory");
    await writeFile(blocker, "a file where the journal directory should be");
    const runner = createInProcessJobRunner({
      process: async () => "never",
      journal: createFileJobJournal(join(blocker, "jobs")),
    });
    await assert.rejects(runner.enqueue({ name: "x" }), /ENOTDIR|EEXIST/);
    assert.deepEqual(await runner.list(), []);
    await runner.close();
  });
});

const redisUrl = process.env.MODELPORT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

if (process.env.MODELPORT_TEST_SKIP_REDIS === "1") {
  test("BullMQ close puts jobs back", { skip: "MODELPORT_TEST_SKIP_REDIS=1 is set" }, () => {});
} else {
  test("BullMQ: closing a worker puts its running job back in the queue; another worker then runs it", async () => {
    const prefix = `mp-test-${randomBytes(6).toString("hex")}`;
    const first = controllableProcessor();
    const worker = await createBullMqJobRunner<{ name: string }, string>({
      redisUrl,
      prefix,
      process: first.process,
    });
    let next: Awaited<ReturnType<typeof createBullMqJobRunner<{ name: string }, string>>> | undefined;
    try {
      const job = await worker.enqueue({ name: "long" });
      while (first.started.length === 0) await delay(10);
      assert.equal((await worker.counts()).running, 1);
      await worker.close();

      const second = controllableProcessor();
      next = await createBullMqJobRunner<{ name: string }, string>({ redisUrl, prefix, process: second.process });
      while (second.started.length === 0) await delay(10);
      second.finish("long");
      const done = await next.waitFor(job.id, 15_000);
      assert.equal(done.status, "succeeded");
      assert.equal(done.result, "long done");
      assert.deepEqual(await next.counts(), { queued: 0, running: 0, succeeded: 1, failed: 0 });
    } finally {
      await next?.close();
      await worker.close();
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
}
