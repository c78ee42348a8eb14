import { ModelportError } from "../../core/errors.js";

/**
 * Turns an aborted InvokeContext signal into the ModelportError the gateway expects. The gateway
 * aborts with a ModelportError of its own when it knows why (timeout, shutdown); that one is kept.
 * Anything else (a client that went away, a bare `abort()`) becomes MP_UPSTREAM_TIMEOUT: the call
 * did not finish in the time it was given, and retrying elsewhere may succeed.
 */
export function abortError(signal: AbortSignal, what: string): ModelportError {
  const reason: unknown = signal.reason;
  if (reason instanceof ModelportError) return reason;
  const detail = reason instanceof Error && reason.message ? `: ${reason.message}` : "";
  return new ModelportError("MP_UPSTREAM_TIMEOUT", `${what} was aborted${detail}`, { cause: reason });
}

export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw abortError(signal, what);
}
