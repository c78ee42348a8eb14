import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { backoffDelayMs, retryDelayMs } from "./backoff.js";

const policy = { baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };
const almostOne = 1 - Number.EPSILON;

describe("backoffDelayMs", () => {
  it("doubles the ceiling per attempt up to maxDelayMs", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, policy, () => almostOne)),
      [99, 199, 399, 799, 999, 999],
    );
  });

  it("applies full jitter: the delay scales with random() from zero", () => {
    assert.equal(
      backoffDelayMs(3, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(3, policy, () => 0.5),
      200,
    );
  });

  it("stays finite for huge attempt numbers and treats attempt < 1 as the first", () => {
    assert.equal(
      backoffDelayMs(5_000, policy, () => 0.5),
      500,
    );
    assert.equal(
      backoffDelayMs(0, policy, () => 0.5),
      50,
    );
  });

  it("returns 0 when the policy has no delay", () => {
    assert.equal(
      backoffDelayMs(2, { baseDelayMs: 0, maxDelayMs: 0 }, () => 0.9),
      0,
    );
  });

  it("draws uniformly: the mean over many draws is half the ceiling", () => {
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    let sum = 0;
    for (let index = 0; index < 20_000; index++) sum += backoffDelayMs(2, policy, random);
    const mean = sum / 20_000;
    assert.ok(Math.abs(mean - 100) < 3, `mean ${mean}`);
  });
});

describe("retryDelayMs", () => {
  it("backs off for a retryable error without Retry-After", () => {
    const error = new ModelportError("MP_UPSTREAM_ERROR", "502");
    assert.equal(
      retryDelayMs(error, 2, policy, () => 0.5),
      100,
    );
  });

  it("uses Retry-After exactly when present and within the cap", () => {
    const error = new ModelportError("MP_UPSTREAM_RATE_LIMITED", "slow down", { retryAfterSeconds: 2 });
    assert.equal(
      retryDelayMs(error, 1, policy, () => 0.5),
      2_000,
    );
    const fractional = new ModelportError("MP_UPSTREAM_RATE_LIMITED", "x", { retryAfterSeconds: 0.0015 });
    assert.equal(
      retryDelayMs(fractional, 1, policy, () => 0.5),
      2,
      "rounded up to whole ms",
    );
  });

  it("gives up on the target when Retry-After exceeds maxRetryAfterMs", () => {
    const error = new ModelportError("MP_UPSTREAM_RATE_LIMITED", "later", { retryAfterSeconds: 6 });
    assert.equal(
      retryDelayMs(error, 1, policy, () => 0.5),
      undefined,
    );
  });

  it("ignores a nonsensical Retry-After and falls back to backoff", () => {
    const error = new ModelportError("MP_UPSTREAM_ERROR", "x", { retryAfterSeconds: Number.NaN });
    assert.equal(
      retryDelayMs(error, 1, policy, () => 0.5),
      50,
    );
  });

  it("never retries non-retryable or foreign errors", () => {
    assert.equal(
      retryDelayMs(new ModelportError("MP_UPSTREAM_REJECTED", "400"), 1, policy, () => 0),
      undefined,
    );
    assert.equal(
      retryDelayMs(new Error("boom"), 1, policy, () => 0),
      undefined,
    );
    const forced = new ModelportError("MP_UPSTREAM_ERROR", "x", { retryable: false });
    assert.equal(
      retryDelayMs(forced, 1, policy, () => 0),
      undefined,
    );
  });
});
