import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { JobJournal } from "./job-journal.js";
import {
  isFinished,
  type JobEvent,
  type JobProcessor,
  type JobRecord,
  type JobRunner,
  type JobStatus,
  jobStatuses,
} from "./types.js";

export interface InProcessRunnerOptions<P, R> {
  process: JobProcessor<P, R>;
  /** Jobs running at once (default 1: training saturates the CPU). */
  concurrency?: number;
  clock?: Clock;
  /** Finished records kept for `get`/`list` (default 200). */
  keep?: number;
  /** Persists every record (see openInProcessJobRunner); without it records live in memory only. */
  journal?: JobJournal<P, R>;
  /** Records to start with (from the journal): queued ones run again in their original order. */
  restored?: readonly JobRecord<P, R>[];
  /** A journal write that failed after the fact (start, progress end, finish). */
  onJournalError?: (error: unknown) => void;
  /** How long close() waits for aborted jobs to stop (default 30 s). */
  closeTimeoutMs?: number;
}

/**
 * A FIFO queue in this process: jobs run `concurrency` at a time. With a journal, a job is
 * written before enqueue() returns, so an accepted job survives the process (see
 * openInProcessJobRunner for what happens to it on the next start).
 */
export function createInProcessJobRunner<P, R>(options: InProcessRunnerOptions<P, R>): JobRunner<P, R> {
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ModelportError("MP_INVALID_REQUEST", "concurrency must be a positive integer", { param: "concurrency" });
  const clock = options.clock ?? systemClock;
  const keep = options.keep ?? 200;
  const journal = options.journal;
  const onJournalError = options.onJournalError ?? (() => undefined);
  const now = () => new Date(clock.now()).toISOString();
  const records = new Map<string, JobRecord<P, R>>();
  const listeners = new Map<string, Set<(event: JobEvent<R>) => void>>();
  const waiting: string[] = [];
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const journalWrites = new Set<Promise<void>>();
  let closed = false;

  for (const record of options.restored ?? []) {
    records.set(record.id, { ...record });
    if (record.status === "queued") waiting.push(record.id);
  }

  const persist = (record: JobRecord<P, R>) => {
    if (journal === undefined) return;
    const write = journal.save({ ...record }).catch(onJournalError);
    journalWrites.add(write);
    void write.finally(() => journalWrites.delete(write));
  };

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
    const finished = [...records.values()].filter((r) => isFinished(r.status));
    for (const record of finished.slice(0, Math.max(0, finished.length - keep))) {
      records.delete(record.id);
      if (journal !== undefined) void journal.remove(record.id).catch(onJournalError);
    }
  };

  const run = (record: JobRecord<P, R>) => {
    const id = record.id;
    const controller = new AbortController();
    const context = {
      jobId: id,
      signal: controller.signal,
      report: (progress: unknown) => {
        record.progress = progress;
        emit(id, { type: "progress", jobId: id, progress });
      },
    };
    record.status = "running";
    record.startedAt = now();
    persist(record);
    emit(id, { type: "status", jobId: id, status: "running" });
    const done = options
      .process(record.payload, context)
      .then(
        (result) => {
          record.status = "succeeded";
          record.result = result;
          record.endedAt = now();
        },
        (error: unknown) => {
          if (controller.signal.aborted) {
            // Stopped by close(): back to the queue, to run again from the start.
            record.status = "queued";
            record.startedAt = null;
            record.progress = null;
            return;
          }
          record.status = "failed";
          record.error = error instanceof Error ? error.message : String(error);
          record.endedAt = now();
        },
      )
      .finally(() => {
        active.delete(id);
        persist(record);
        emit(id, { type: "status", jobId: id, status: record.status, result: record.result, error: record.error });
        if (isFinished(record.status)) listeners.delete(id);
        prune();
        pump();
      });
    active.set(id, { controller, done });
  };

  const pump = () => {
    while (!closed && active.size < concurrency && waiting.length > 0) {
      const id = waiting.shift() as string;
      const record = records.get(id);
      if (record === undefined || record.status !== "queued") continue;
      // Reserve the slot now; start on a later tick, so enqueue() returns (and callers subscribe) first.
      const placeholder = { controller: new AbortController(), done: Promise.resolve() };
      active.set(id, placeholder);
      setImmediate(() => {
        active.delete(id);
        if (closed) {
          waiting.unshift(id);
          return;
        }
        run(record);
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
      // Accepted means written down: a journal failure refuses the job instead of risking it.
      if (journal !== undefined) await journal.save({ ...record });
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
    async counts() {
      const counts = Object.fromEntries(jobStatuses.map((status) => [status, 0])) as Record<JobStatus, number>;
      for (const record of records.values()) counts[record.status]++;
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
    waitFor(jobId, timeoutMs) {
      return new Promise((resolve, reject) => {
        const record = records.get(jobId);
        if (record === undefined) return reject(new ModelportError("MP_NOT_FOUND", `no job '${jobId}'`));
        if (isFinished(record.status)) return resolve({ ...record });
        let timer: NodeJS.Timeout | undefined;
        const unsubscribe = runner.subscribe(jobId, (event) => {
          if (event.type === "status" && isFinished(event.status)) {
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
      if (closed) return;
      closed = true;
      // Queued jobs stay queued in the journal; running ones are aborted and go back to queued.
      waiting.length = 0;
      const running = [...active.values()];
      for (const job of running) job.controller.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(running.map((job) => job.done)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.closeTimeoutMs ?? 30_000);
        }),
      ]);
      clearTimeout(timer);
      await Promise.allSettled([...journalWrites]);
    },
  };
  // Restored queued jobs start now (on a later tick, like enqueued ones).
  pump();
  return runner;
}

/** The error a job gets when the process stopped (crash, kill) while it was running. */
export const interruptedJobError =
  "interrupted: the server stopped while this job was running (crash or kill); it was not restarted automatically, submit it again";

/**
 * The in-process runner over a journal, after a restart: queued jobs (never started, or put back
 * by a graceful shutdown) run again in their original order; a job that was *running* when the
 * process died is marked failed with `interruptedJobError` rather than restarted, because the job
 * itself may be what killed the process (out of memory), and restarting it would crash-loop.
 * `onInterrupted` lets the caller mark the job's tracked run the same way.
 */
export async function openInProcessJobRunner<P, R>(
  options: Omit<InProcessRunnerOptions<P, R>, "restored" | "journal"> & {
    journal: JobJournal<P, R>;
    onInterrupted?: (record: JobRecord<P, R>) => Promise<void>;
  },
): Promise<JobRunner<P, R>> {
  const clock = options.clock ?? systemClock;
  const restored = await options.journal.load();
  for (const record of restored) {
    if (record.status !== "running") continue;
    record.status = "failed";
    record.error = interruptedJobError;
    record.endedAt = new Date(clock.now()).toISOString();
    await options.journal.save(record);
    await options.onInterrupted?.(record);
  }
  const { onInterrupted: _ignored, ...rest } = options;
  return createInProcessJobRunner({ ...rest, restored });
}
