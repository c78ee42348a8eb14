import { ModelportError } from "../../core/errors.js";
import type { InvokeContext, RuntimeTimeouts } from "../../core/runtime.js";

/**
 * The per-attempt plumbing: one AbortController whose signal the runtime receives, aborted when
 * the caller's signal aborts or when the attempt's deadline timer fires. We combine signals by
 * hand rather than with AbortSignal.any + AbortSignal.timeout so that (a) the deadline runs on
 * injectable timers (tests advance a fake clock instead of sleeping), (b) the caller listener is
 * removed as soon as the attempt ends (AbortSignal.any keeps dependants alive on Node 20), and
 * (c) we know for sure whether an abort was our timeout or the caller.
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

/** Waits `ms`; rejects with the signal's reason as soon as `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export function createSleep(timers: Timers): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        timers.clearTimeout(handle);
        reject(signal.reason);
      };
      const handle = timers.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
}

/**
 * The error a route ends with when its caller aborted. A ModelportError reason (for example
 * MP_SHUTTING_DOWN from a draining server) is passed through; a deadline (`TimeoutError`, as from
 * AbortSignal.timeout) becomes a non-retryable MP_UPSTREAM_TIMEOUT; anything else MP_CLIENT_CLOSED.
 */
export function callerAbortError(signal: AbortSignal): ModelportError {
  const reason: unknown = signal.reason;
  if (reason instanceof ModelportError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new ModelportError("MP_UPSTREAM_TIMEOUT", "the request deadline passed", {
      retryable: false,
      cause: reason,
    });
  }
  return new ModelportError("MP_CLIENT_CLOSED", "the request was aborted by the caller", { cause: reason });
}

/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with its reason. Used so a
 * runtime that ignores its signal cannot hold the route past a deadline. A later settlement of
 * `promise` is absorbed (no unhandled rejection).
 */
export function raceWithSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export function noop(): void {}

export class AttemptScope {
  readonly context: InvokeContext;
  /** The timeout error when the deadline fired, undefined otherwise. */
  timeoutError: ModelportError | undefined;
  private readonly controller = new AbortController();
  private handle: unknown;
  private disposed = false;

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly timers: Timers,
    requestId: string,
    timeouts: RuntimeTimeouts,
  ) {
    this.context = { signal: this.controller.signal, requestId, timeouts };
    // `this` as an EventListener object (handleEvent) avoids allocating a closure per attempt.
    if (caller) {
      if (caller.aborted) this.controller.abort(caller.reason);
      else caller.addEventListener("abort", this);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Caller aborted: abort the attempt with the same reason. */
  handleEvent(): void {
    this.controller.abort(this.caller?.reason);
  }

  /**
   * (Re)starts the deadline: after `ms`, the attempt aborts with MP_UPSTREAM_TIMEOUT and the
   * message `${subject} ${what} within ${ms} ms` (built only if it fires, so arming is cheap).
   */
  arm(ms: number, what: string, subject = "upstream"): void {
    if (this.disposed) return;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = this.timers.setTimeout(() => {
      this.handle = undefined;
      this.timeoutError = new ModelportError("MP_UPSTREAM_TIMEOUT", `${subject} ${what} within ${ms} ms`);
      this.controller.abort(this.timeoutError);
    }, ms);
  }

  /** Ends the attempt: clears its timer and detaches from the caller's signal. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.caller?.removeEventListener("abort", this);
  }

  /** Aborts the attempt's signal (e.g. when a stream consumer leaves), then disposes. */
  abort(reason: unknown): void {
    this.dispose();
    this.controller.abort(reason);
  }
}
