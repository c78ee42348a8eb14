import { ModelportError } from "../../core/errors.js";
import type { AdmissionDecision, RateLimitHeaders } from "./limiter.js";

/**
 * The limiter's HTTP face, as OpenAI shapes it: `x-ratelimit-*` on every limited response
 * (admitted or refused) and `retry-after` (+ `retry-after-ms`, which the official clients read
 * first) on a 429. Header names are lower case, as HTTP/2 and fetch present them.
 */

/** OpenAI's duration format for the reset headers: `250ms`, `1.5s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1_000) return `${whole}ms`;
  const seconds = whole / 1_000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(3))}s`;
}

/** The `x-ratelimit-*` headers for a decision's headers; dimensions no scope limits are left out. */
export function rateLimitHeaders(headers: RateLimitHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers.limitRequests !== undefined) out["x-ratelimit-limit-requests"] = String(headers.limitRequests);
  if (headers.remainingRequests !== undefined) {
    out["x-ratelimit-remaining-requests"] = String(headers.remainingRequests);
  }
  if (headers.resetRequestsMs !== undefined) {
    out["x-ratelimit-reset-requests"] = formatResetDuration(headers.resetRequestsMs);
  }
  if (headers.limitTokens !== undefined) out["x-ratelimit-limit-tokens"] = String(headers.limitTokens);
  if (headers.remainingTokens !== undefined) out["x-ratelimit-remaining-tokens"] = String(headers.remainingTokens);
  if (headers.resetTokensMs !== undefined) out["x-ratelimit-reset-tokens"] = formatResetDuration(headers.resetTokensMs);
  return out;
}

/** Everything a response carries for a decision: the x-ratelimit-* set, plus Retry-After on a refusal. */
export function decisionHeaders(decision: AdmissionDecision): Record<string, string> {
  const out = rateLimitHeaders(decision.headers);
  if (!decision.allowed) {
    out["retry-after"] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1_000)));
    out["retry-after-ms"] = String(decision.retryAfterMs);
  }
  return out;
}

const reasonWords = { requests: "requests", tokens: "tokens", concurrency: "concurrent requests" } as const;

/**
 * The 429 for a refusal (MP_RATE_LIMITED, which the OpenAI error mapping turns into
 * `rate_limit_exceeded`, so the official client raises RateLimitError). A request too large to
 * ever fit is not retryable. The caller still sets `decisionHeaders(decision)` on the response.
 */
export function rateLimitError(decision: Extract<AdmissionDecision, { allowed: false }>): ModelportError {
  const what = reasonWords[decision.reason];
  const message = decision.exceedsLimit
    ? `Request too large: its estimated tokens exceed the tokens-per-minute limit of ${decision.scope}.`
    : `Rate limit reached for ${what} on ${decision.scope}. Please try again in ${formatResetDuration(decision.retryAfterMs)}.`;
  return new ModelportError("MP_RATE_LIMITED", message, {
    retryable: !decision.exceedsLimit,
    retryAfterSeconds: decision.retryAfterMs / 1_000,
  });
}
