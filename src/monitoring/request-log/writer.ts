import type { RequestLogRepository } from "./repository.js";
import type { RequestLogEntry } from "./types.js";

export interface RequestLogWriterOptions {
  repository: RequestLogRepository;
  /** Flush when this many entries wait. */
  batchSize?: number;
  /** Flush at least this often while entries wait. */
  flushIntervalMs?: number;
  /** Entries held at most; beyond it the oldest are dropped and counted (the log must not eat memory). */
  maxQueued?: number;
  onError?: (error: unknown) => void;
  onDropped?: (count: number) => void;
}

/**
 * Off the request path: `append()` only queues; a background flush writes batches. A failed batch
 * is put back and retried on the next flush, so a database hiccup loses nothing unless the queue
 * overflows (then the oldest entries go, counted by `onDropped`). `close()` flushes what is left.
 */
export function createRequestLogWriter(options: RequestLogWriterOptions) {
  const batchSize = options.batchSize ?? 500;
  const maxQueued = options.maxQueued ?? 100_000;
  let queue: RequestLogEntry[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  async function flushOnce(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      queue = queue.slice(batch.length);
      try {
        await options.repository.insertMany(batch);
      } catch (error) {
        queue = [...batch, ...queue];
        options.onError?.(error);
        return;
      }
    }
  }

  function flush(): Promise<void> {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    append(entry: RequestLogEntry): void {
      if (closed) return;
      queue.push(entry);
      if (queue.length > maxQueued) {
        const dropped = queue.length - maxQueued;
        queue = queue.slice(dropped);
        options.onDropped?.(dropped);
      }
      if (queue.length >= batchSize) void flush();
    },
    flush,
    get queued(): number {
      return queue.length;
    },
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      await flush();
      if (queue.length > 0) await flush(); // one retry for a batch that failed during shutdown
    },
  };
}

export type RequestLogWriter = ReturnType<typeof createRequestLogWriter>;
