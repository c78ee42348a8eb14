import { ModelportError } from "../../core/errors.js";
import type { InvokeContext } from "../../core/runtime.js";
import { abortError } from "./errors.js";

/**
 * One upstream call's abort signal: fires when the caller's signal aborts or `totalMs` passes,
 * with a ModelportError as reason (undici rejects with the reason as given, so the error the
 * caller sees needs no further mapping).
 *
 * Built by hand rather than `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: that leaves
 * one timer and one listener on the caller's signal alive per call until the timeout fires
 * (minutes, at thousands of calls a second); `done()` here frees both when the call ends.
 */
export interface CallDeadline {
  readonly signal: AbortSignal;
  /** Aborts the call now (the consumer stopped reading); a no-op once done or aborted. */
  abort(reason: ModelportError): void;
  /** The call finished: clears the timer and stops listening to the caller's signal. */
  done(): void;
}

export function startCallDeadline(context: InvokeContext): CallDeadline {
  const { signal: callerSignal, timeouts } = context;
  if (callerSignal.aborted) throw abortError(callerSignal.reason);
  const controller = new AbortController();
  let finished = false;
  const onCallerAbort = (): void => {
    if (!finished) controller.abort(abortError(callerSignal.reason));
    done();
  };
  const timer = setTimeout(() => {
    controller.abort(
      new ModelportError("MP_UPSTREAM_TIMEOUT", `upstream call exceeded ${timeouts.totalMs} ms`, {
        cause: new Error("totalMs deadline"),
      }),
    );
    done();
  }, timeouts.totalMs);
  // The gateway's own lifecycle decides when the process exits, not a pending deadline.
  timer.unref();
  callerSignal.addEventListener("abort", onCallerAbort, { once: true });
  function done(): void {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    callerSignal.removeEventListener("abort", onCallerAbort);
  }
  return {
    signal: controller.signal,
    abort(reason) {
      if (!finished && !controller.signal.aborted) controller.abort(reason);
      done();
    },
    done,
  };
}
