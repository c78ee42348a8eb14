import { ModelportError } from "../../core/errors.js";

/**
 * Retry delays: exponential backoff with full jitter (AWS's "Exponential Backoff and Jitter": the
 * delay is uniform in [0, min(max, base · 2^(attempt-1))]), which spreads retries of many clients
 * better than equal or decorrelated jitter at the same mean. An upstream's Retry-After wins over
 * the computed delay, because the upstream knows when it will take traffic again.
 */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Longest Retry-After we are willing to wait on one target; longer means "try the next one". */
  maxRetryAfterMs: number;
}

/**
 * Delay before the retry that follows failed attempt number `attempt` (1-based: after the first
 * failure, `attempt` is 1). `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = attempt < 1 ? 0 : attempt - 1;
  // 2 ** exponent reaches Infinity for large attempts; Math.min keeps the ceiling finite.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  if (!(ceiling > 0)) return 0;
  return Math.floor(random() * ceiling);
}

/**
 * Delay before retrying the same target after `error` ended attempt number `attempt`, or
 * `undefined` when this target should not be retried: the error is not a retryable
 * ModelportError, or its Retry-After is longer than `policy.maxRetryAfterMs` (the router then
 * moves on to the next target instead of holding the request).
 */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  if (!(error instanceof ModelportError) || !error.isRetryable) return undefined;
  const retryAfterSeconds = error.retryAfterSeconds;
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0) {
    const retryAfterMs = Math.ceil(retryAfterSeconds * 1000);
    return retryAfterMs > policy.maxRetryAfterMs ? undefined : retryAfterMs;
  }
  return backoffDelayMs(attempt, policy, random);
}
