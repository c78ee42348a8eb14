/**
 * A counting semaphore with a FIFO wait queue. The gguf runtime has a fixed number of context
 * sequences; requests beyond that wait here (in arrival order) instead of failing with
 * node-llama-cpp's "No sequences left". A waiter whose signal aborts leaves the queue.
 */
export interface Semaphore {
  /** Resolves with a release function once a permit is free; rejects with the signal's reason. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Permits currently held. */
  readonly inUse: number;
  /** Requests waiting for a permit. */
  readonly waiting: number;
}

interface Waiter {
  grant: () => void;
}

export function createSemaphore(permits: number): Semaphore {
  if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`permits must be a positive integer: ${permits}`);
  let inUse = 0;
  const queue: Waiter[] = [];

  const makeRelease = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return; // releasing twice must not free someone else's permit
      released = true;
      const next = queue.shift();
      if (next) next.grant();
      else inUse--;
    };
  };

  return {
    get inUse() {
      return inUse;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (inUse < permits) {
        inUse++;
        return Promise.resolve(makeRelease());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(signal?.reason);
        };
        // The permit passes straight from the releaser to this waiter, so `inUse` stays put.
        const waiter: Waiter = {
          grant: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve(makeRelease());
          },
        };
        queue.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
