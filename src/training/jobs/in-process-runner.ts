import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { JobEvent, JobProcessor, JobRecord, JobRunner } from "./types.js";

export interface InProcessRunnerOptions<P, R> {
  process: JobProcessor<P, R>;
  /** Jobs running at once (default 1: training saturates the CPU). */
  concurrency?: number;
  clock?: Clock;
  /** Finished records kept for `get`/`list` (default 200). */
  keep?: number;
}

/** A FIFO queue in this process: jobs run `concurrency` at a time; records live in memory. */
export function createInProcessJobRunner<P, R>(options: InProcessRunnerOptions<P, R>): JobRunner<P, R> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ModelportError("MP_INVALID_REQUEST", "concurrency must be a positive integer", { param: "concurrency" });
  const clock = options.clock ?? systemClock;
  const keep = options.keep ?? 200;
  const now = () => new Date(clock.now()).toISOString();
  const records = new Map<string, JobRecord<P, R>>();
  const listeners = new Map<string, Set<(event: JobEvent<R>) => void>>();
  const waiting: string[] = [];
  let running = 0;
  let closed = false;

  const emit = (jobId: string, event: JobEvent<R>) => {
    for (const listener of listeners.get(jobId) ?? []) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure must not break the job or the other subscribers.
      }
    }
  };

  const prune = () => {
    const finished = [...records.values()].filter((r) => r.status === "succeeded" || r.status === "failed");
    for (const record of finished.slice(0, Math.max(0, finished.length - keep))) records.delete(record.id);
  };

  const pump = () => {
    while (!closed && running < concurrency && waiting.length > 0) {
      const id = waiting.shift() as string;
      const record = records.get(id);
      if (record === undefined) continue;
      running++;
      const context = {
        jobId: id,
        report: (progress: unknown) => {
          record.progress = progress;
          emit(id, { type: "progress", jobId: id, progress });
        },
      };
      // Start on a later tick, so enqueue() returns (and callers subscribe) before the job begins.
      setImmediate(() => {
        record.status = "running";
        record.startedAt = now();
        emit(id, { type: "status", jobId: id, status: "running" });
        options
          .process(record.payload, context)
          .then(
            (result) => {
              record.status = "succeeded";
              record.result = result;
            },
            (error: unknown) => {
              record.status = "failed";
              record.error = error instanceof Error ? error.message : String(error);
            },
          )
          .finally(() => {
            record.endedAt = now();
            running--;
            emit(id, { type: "status", jobId: id, status: record.status, result: record.result, error: record.error });
            listeners.delete(id);
            prune();
            pump();
          });
      });
    }
  };

  const runner: JobRunner<P, R> = {
    async enqueue(payload, enqueueOptions = {}) {
      if (closed) throw new ModelportError("MP_SHUTTING_DOWN", "the job runner is closed");
      const id = enqueueOptions.jobId ?? randomId("job");
      if (records.has(id)) throw new ModelportError("MP_CONFLICT", `job '${id}' exists`, { param: "jobId" });
      const record: JobRecord<P, R> = {
        id,
        status: "queued",
        payload,
        createdAt: now(),
        startedAt: null,
        endedAt: null,
        progress: null,
        result: null,
        error: null,
      };
      records.set(id, record);
      waiting.push(id);
      const snapshot = { ...record };
      pump();
      return snapshot;
    },
    async get(jobId) {
      const record = records.get(jobId);
      return record === undefined ? undefined : { ...record };
    },
    async list() {
      return [...records.values()].reverse().map((record) => ({ ...record }));
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
    waitFor(jobId, timeoutMs) {
      return new Promise((resolve, reject) => {
        const record = records.get(jobId);
        if (record === undefined) return reject(new ModelportError("MP_NOT_FOUND", `no job '${jobId}'`));
        if (record.status === "succeeded" || record.status === "failed") return resolve({ ...record });
        let timer: NodeJS.Timeout | undefined;
        const unsubscribe = runner.subscribe(jobId, (event) => {
          if (event.type === "status" && (event.status === "succeeded" || event.status === "failed")) {
            if (timer) clearTimeout(timer);
            unsubscribe();
            resolve({ ...(records.get(jobId) ?? record) });
          }
        });
        if (timeoutMs !== undefined) {
          timer = setTimeout(() => {
            unsubscribe();
            reject(new ModelportError("MP_INTERNAL", `job '${jobId}' did not finish within ${timeoutMs} ms`));
          }, timeoutMs);
        }
      });
    },
    async close() {
      closed = true;
      waiting.length = 0;
    },
  };
  return runner;
}
