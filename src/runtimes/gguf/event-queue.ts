/**
 * A single-producer, single-consumer async queue between a llama.cpp generation (which pushes
 * from synchronous callbacks and cannot be paused) and a stream consumer. To bound memory when
 * the consumer is slow, items beyond `limit` are merged into the newest queued item when
 * `merge` allows it (text chunks concatenate), so the consumer sees fewer, larger chunks.
 */
export interface EventQueue<T> {
  push(item: T): void;
  /** No more items; pending and future `next()` calls report done after draining. */
  end(): void;
  /** Ends the queue with an error, delivered after the items already queued. */
  fail(error: unknown): void;
  next(): Promise<IteratorResult<T, undefined>>;
  readonly size: number;
}

export interface EventQueueOptions<T> {
  limit: number;
  /** Combines `previous` and `next` into one item, or returns undefined when they cannot merge. */
  merge: (previous: T, next: T) => T | undefined;
}

export function createEventQueue<T>(options: EventQueueOptions<T>): EventQueue<T> {
  const items: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let waiter: { resolve: (result: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void } | undefined;

  const settleWaiter = () => {
    if (!waiter) return;
    const current = waiter;
    if (items.length > 0) {
      waiter = undefined;
      current.resolve({ done: false, value: items.shift() as T });
    } else if (failure) {
      waiter = undefined;
      current.reject(failure.error);
    } else if (ended) {
      waiter = undefined;
      current.resolve({ done: true, value: undefined });
    }
  };

  return {
    get size() {
      return items.length;
    },
    push(item) {
      if (ended) return;
      const last = items[items.length - 1];
      const merged = items.length >= options.limit && last !== undefined ? options.merge(last, item) : undefined;
      if (merged !== undefined) items[items.length - 1] = merged;
      else items.push(item);
      settleWaiter();
    },
    end() {
      ended = true;
      settleWaiter();
    },
    fail(error) {
      if (ended) return;
      ended = true;
      failure = { error };
      settleWaiter();
    },
    next() {
      if (waiter) return Promise.reject(new Error("event queue supports one pending next() at a time"));
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        settleWaiter();
      });
    },
  };
}
