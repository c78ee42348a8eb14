import { type Job, Queue, QueueEvents, WaitingError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import {
  isFinished,
  type JobEvent,
  type JobProcessor,
  type JobRecord,
  type JobRunner,
  type JobStatus,
  jobStatuses,
} from "./types.js";

export interface BullMqRunnerOptions<P, R> {
  redisUrl: string;
  /** Queue name (default `modelport-training`). */
  queueName?: string;
  /** Redis key prefix (default `modelport`); tests use a unique one. */
  prefix?: string;
  /** Process jobs in this process (default true); false = producer only (e.g. the API server). */
  process?: JobProcessor<P, R>;
  concurrency?: number;
  /** How long close() waits for aborted jobs to go back to the queue (default 30 s). */
  closeTimeoutMs?: number;
}

function statusOf(state: string): JobStatus {
  if (state === "active") return "running";
  if (state === "completed") return "succeeded";
  if (state === "failed") return "failed";
  return "queued";
}

function iso(ms: number | undefined): string | null {
  return ms === undefined || ms === 0 ? null : new Date(ms).toISOString();
}

/** BullMQ's connections retry forever; a one-shot probe turns a wrong URL into an error. */
async function probeRedis(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3_000,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new ModelportError("MP_STORAGE_ERROR", `cannot reach Redis for the job queue: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    probe.disconnect();
  }
}

/**
 * The job runner on BullMQ (Redis), for when the server is configured with a Redis URL: jobs
 * survive a restart and any process with a worker can run them. Progress goes through
 * `job.updateProgress` and reaches subscribers in every process through QueueEvents.
 */
export async function createBullMqJobRunner<P, R>(options: BullMqRunnerOptions<P, R>): Promise<JobRunner<P, R>> {
  await probeRedis(options.redisUrl);
  const queueName = options.queueName ?? "modelport-training";
  const prefix = options.prefix ?? "modelport";
  // BullMQ needs maxRetriesPerRequest: null for blocking connections; each role gets its own.
  const connect = () => new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
  const connections: Redis[] = [];
  const connection = () => {
    const redis = connect();
    redis.on("error", () => {
      // Surfaced through failing queue calls; an unhandled 'error' event would crash the process.
    });
    connections.push(redis);
    return redis;
  };
  const queue = new Queue(queueName, { connection: connection(), prefix });
  const events = new QueueEvents(queueName, { connection: connection(), prefix });
  // An EventEmitter's unhandled 'error' throws: a Redis outage must not take the server down.
  // The connections above report it; the queue retries on its own when Redis is back.
  queue.on("error", () => undefined);
  events.on("error", () => undefined);
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  } catch (error) {
    await Promise.allSettled([queue.close(), events.close()]);
    for (const redis of connections) redis.disconnect();
    throw new ModelportError("MP_STORAGE_ERROR", `cannot reach Redis for the job queue: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const listeners = new Map<string, Set<(event: JobEvent<R>) => void>>();
  const emit = (jobId: string, event: JobEvent<R>) => {
    for (const listener of listeners.get(jobId) ?? []) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure must not affect the others.
      }
    }
  };
  events.on("progress", ({ jobId, data }) => emit(jobId, { type: "progress", jobId, progress: data }));
  events.on("active", ({ jobId }) => emit(jobId, { type: "status", jobId, status: "running" }));
  events.on("completed", ({ jobId, returnvalue }) => {
    let result: unknown = returnvalue;
    if (typeof returnvalue === "string") {
      try {
        result = JSON.parse(returnvalue);
      } catch {
        // a plain string result
      }
    }
    emit(jobId, { type: "status", jobId, status: "succeeded", result: result as R, error: null });
  });
  events.on("failed", ({ jobId, failedReason }) =>
    emit(jobId, { type: "status", jobId, status: "failed", result: null, error: failedReason }),
  );

  let worker: Worker | undefined;
  // Jobs this process is running, so close() can abort them and hand them back to the queue.
  const running = new Map<string, AbortController>();
  if (options.process !== undefined) {
    const processor = options.process;
    worker = new Worker(
      queueName,
      async (job: Job, token?: string) => {
        const controller = new AbortController();
        const jobId = job.id as string;
        running.set(jobId, controller);
        try {
          return await processor(job.data as P, {
            jobId,
            signal: controller.signal,
            report: (progress) => {
              void job.updateProgress(progress as object).catch(() => undefined);
            },
          });
        } catch (error) {
          if (!controller.signal.aborted) throw error;
          // Stopped by close(): back to waiting, for this or another worker to run from the start.
          await job.moveToWait(token);
          throw new WaitingError();
        } finally {
          running.delete(jobId);
        }
      },
      { connection: connection(), prefix, concurrency: options.concurrency ?? 1 },
    );
    worker.on("error", () => undefined);
    await worker.waitUntilReady();
  }

  const toRecord = async (read: Job): Promise<JobRecord<P, R>> => {
    let job = read;
    const state = await job.getState();
    // The job's fields were read before its state: when it finished in between, read them again
    // (BullMQ moves a job to finished and writes its result in one step, so they now agree).
    if ((state === "completed" || state === "failed") && !job.finishedOn)
      job = (await queue.getJob(job.id as string)) ?? job;
    return {
      id: job.id as string,
      status: statusOf(state),
      payload: job.data as P,
      createdAt: new Date(job.timestamp).toISOString(),
      startedAt: iso(job.processedOn),
      endedAt: iso(job.finishedOn),
      progress: job.progress ?? null,
      result: (job.returnvalue ?? null) as R | null,
      error: job.failedReason ?? null,
    };
  };

  const runner: JobRunner<P, R> = {
    async enqueue(payload, enqueueOptions = {}) {
      const jobId = enqueueOptions.jobId ?? randomId("job");
      // Training is not idempotent: a failed job is reported, not retried.
      const job = await queue.add("train", payload, { jobId, attempts: 1, removeOnComplete: 500, removeOnFail: 500 });
      return toRecord(job);
    },
    async get(jobId) {
      const job = await queue.getJob(jobId);
      return job === undefined || job === null ? undefined : toRecord(job);
    },
    async list() {
      const jobs = await queue.getJobs(["waiting", "active", "delayed", "completed", "failed"], 0, 199, false);
      const records = await Promise.all(jobs.filter((job) => job !== undefined).map(toRecord));
      return records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    },
    async counts() {
      const raw = await queue.getJobCounts("waiting", "prioritized", "delayed", "active", "completed", "failed");
      const counts = Object.fromEntries(jobStatuses.map((status) => [status, 0])) as Record<JobStatus, number>;
      for (const [state, count] of Object.entries(raw)) counts[statusOf(state)] += count;
      return counts;
    },
    subscribe(jobId, listener) {
      let set = listeners.get(jobId);
      if (set === undefined) {
        set = new Set();
        listeners.set(jobId, set);
      }
      set.add(listener);
      return () => {
        listeners.get(jobId)?.delete(listener);
      };
    },
    async waitFor(jobId, timeoutMs) {
      const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
      // Events can be missed between subscribing and checking, so poll the record as well.
      for (;;) {
        const record = await runner.get(jobId);
        if (record === undefined) throw new ModelportError("MP_NOT_FOUND", `no job '${jobId}'`);
        if (isFinished(record.status)) return record;
        if (Date.now() > deadline)
          throw new ModelportError("MP_INTERNAL", `job '${jobId}' did not finish within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 250);
          const unsubscribe = runner.subscribe(jobId, (event) => {
            if (event.type === "status") done();
          });
          function done() {
            clearTimeout(timer);
            unsubscribe();
            resolve();
          }
        });
      }
    },
    async close() {
      for (const controller of running.values()) controller.abort();
      let timer: NodeJS.Timeout | undefined;
      const closing = worker?.close();
      await Promise.race([
        closing,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.closeTimeoutMs ?? 30_000);
        }),
      ]);
      clearTimeout(timer);
      // A job that did not stop in time keeps its lock until it expires; BullMQ's stalled-job
      // check then puts it back in the queue.
      if (worker !== undefined && running.size > 0) await worker.close(true).catch(() => undefined);
      await Promise.allSettled([closing, events.close(), queue.close()]);
      for (const redis of connections) redis.disconnect();
    },
  };
  return runner;
}
