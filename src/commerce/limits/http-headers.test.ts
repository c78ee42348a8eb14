import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorCodes } from "../../core/error-codes.js";
import { decisionHeaders, formatResetDuration, rateLimitError, rateLimitHeaders } from "./http-headers.js";
import type { AdmissionDecision } from "./limiter.js";

describe("rate-limit HTTP headers", () => {
  it("formats reset durations the way OpenAI does", () => {
    assert.equal(formatResetDuration(0), "0ms");
    assert.equal(formatResetDuration(249.2), "250ms");
    assert.equal(formatResetDuration(1_000), "1s");
    assert.equal(formatResetDuration(1_500), "1.5s");
    assert.equal(formatResetDuration(61_000), "1m1s");
    assert.equal(formatResetDuration(360_000), "6m0s");
    assert.equal(formatResetDuration(-5), "0ms");
  });

  it("maps the tightest limits to x-ratelimit-* and leaves out unlimited dimensions", () => {
    assert.deepEqual(
      rateLimitHeaders({
        limitRequests: 60,
        remainingRequests: 59,
        resetRequestsMs: 60_500,
        limitTokens: 1_000,
        remainingTokens: 0,
        resetTokensMs: 900,
      }),
      {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1m0.5s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "900ms",
      },
    );
    assert.deepEqual(rateLimitHeaders({ limitTokens: 10, remainingTokens: 3, resetTokensMs: 10 }), {
      "x-ratelimit-limit-tokens": "10",
      "x-ratelimit-remaining-tokens": "3",
      "x-ratelimit-reset-tokens": "10ms",
    });
    assert.deepEqual(rateLimitHeaders({}), {});
  });

  it("adds Retry-After (whole seconds, at least 1) and retry-after-ms to a refusal", () => {
    const refusal: AdmissionDecision = {
      allowed: false,
      reason: "requests",
      scope: "key:k1",
      retryAfterMs: 1_200,
      exceedsLimit: false,
      headers: { limitRequests: 5, remainingRequests: 0, resetRequestsMs: 1_200 },
    };
    const headers = decisionHeaders(refusal);
    assert.equal(headers["retry-after"], "2");
    assert.equal(headers["retry-after-ms"], "1200");
    assert.equal(headers["x-ratelimit-remaining-requests"], "0");
    assert.equal(decisionHeaders({ ...refusal, retryAfterMs: 3 })["retry-after"], "1");
    const allowed = decisionHeaders({
      allowed: true,
      ticket: { id: "t", reservedTokens: 0, scopes: [], degraded: false },
      headers: { limitRequests: 5, remainingRequests: 4, resetRequestsMs: 60_000 },
    });
    assert.equal(allowed["retry-after"], undefined);
    assert.equal(allowed["x-ratelimit-limit-requests"], "5");
  });

  it("turns a refusal into a 429 MP_RATE_LIMITED, not retryable when the request can never fit", () => {
    const error = rateLimitError({
      allowed: false,
      reason: "tokens",
      scope: "tenant:t1",
      retryAfterMs: 2_500,
      exceedsLimit: false,
      headers: {},
    });
    assert.equal(error.code, "MP_RATE_LIMITED");
    assert.equal(error.status, 429);
    assert.equal(errorCodes.MP_RATE_LIMITED.openaiType, "rate_limit_error");
    assert.equal(error.retryAfterSeconds, 2.5);
    assert.equal(error.isRetryable, true);
    assert.match(error.message, /tokens on tenant:t1.*2\.5s/);
    const tooLarge = rateLimitError({
      allowed: false,
      reason: "tokens",
      scope: "key:k",
      retryAfterMs: 60_000,
      exceedsLimit: true,
      headers: {},
    });
    assert.equal(tooLarge.isRetryable, false);
    assert.match(tooLarge.message, /too large/);
  });
});
