import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BreakerState, createCircuitBreaker } from "./circuit-breaker.js";
import { createFakeTime } from "./testing/fake-time.js";

function setup(options: { failureThreshold?: number; cooldownMs?: number; halfOpenMaxRequests?: number } = {}) {
  const time = createFakeTime();
  const transitions: string[] = [];
  const breaker = createCircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 1_000,
    ...options,
    clock: time.clock,
    onStateChange: (to: BreakerState, from: BreakerState) => transitions.push(`${from}->${to}`),
  });
  return { time, breaker, transitions };
}

function failTimes(breaker: ReturnType<typeof createCircuitBreaker>, count: number): void {
  for (let index = 0; index < count; index++) {
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
  }
}

describe("createCircuitBreaker", () => {
  it("uses the documented defaults", async () => {
    const time = createFakeTime();
    const breaker = createCircuitBreaker({ clock: time.clock });
    failTimes(breaker, 4);
    assert.equal(breaker.state, "closed");
    failTimes(breaker, 1);
    assert.equal(breaker.state, "open");
    await time.advance(29_999);
    assert.equal(breaker.state, "open");
    await time.advance(1);
    assert.equal(breaker.state, "half-open");
  });

  it("opens only after the threshold of consecutive failures; a success resets the count", () => {
    const { breaker, transitions } = setup();
    failTimes(breaker, 2);
    breaker.recordSuccess();
    failTimes(breaker, 2);
    assert.equal(breaker.state, "closed");
    failTimes(breaker, 1);
    assert.equal(breaker.state, "open");
    assert.equal(breaker.tryAcquire(), false);
    assert.deepEqual(transitions, ["closed->open"]);
  });

  it("reports the remaining cooldown while open", async () => {
    const { breaker, time } = setup();
    assert.equal(breaker.remainingCooldownMs, 0);
    failTimes(breaker, 3);
    await time.advance(400);
    assert.equal(breaker.remainingCooldownMs, 600);
  });

  it("lets one probe through after the cooldown and closes on its success", async () => {
    const { breaker, time, transitions } = setup();
    failTimes(breaker, 3);
    await time.advance(999);
    assert.equal(breaker.tryAcquire(), false);
    await time.advance(1);
    assert.equal(breaker.tryAcquire(), true, "probe slot");
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.tryAcquire(), false, "only one probe at a time");
    breaker.recordSuccess();
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.tryAcquire(), true);
    assert.deepEqual(transitions, ["closed->open", "open->half-open", "half-open->closed"]);
  });

  it("reopens with a fresh cooldown when the probe fails", async () => {
    const { breaker, time } = setup();
    failTimes(breaker, 3);
    await time.advance(1_000);
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
    assert.equal(breaker.state, "open");
    await time.advance(999);
    assert.equal(breaker.tryAcquire(), false, "cooldown restarted at the probe failure");
    await time.advance(1);
    assert.equal(breaker.tryAcquire(), true);
  });

  it("honours halfOpenMaxRequests and frees a slot on release without a verdict", async () => {
    const { breaker, time } = setup({ halfOpenMaxRequests: 2 });
    failTimes(breaker, 3);
    await time.advance(1_000);
    assert.equal(breaker.tryAcquire(), true);
    assert.equal(breaker.tryAcquire(), true);
    assert.equal(breaker.tryAcquire(), false);
    breaker.release();
    assert.equal(breaker.state, "half-open", "release is not a verdict");
    assert.equal(breaker.tryAcquire(), true);
  });

  it("ignores late failures while open (the cooldown is not extended)", async () => {
    const { breaker, time } = setup();
    failTimes(breaker, 3);
    await time.advance(900);
    breaker.recordFailure();
    breaker.recordSuccess();
    await time.advance(100);
    assert.equal(breaker.state, "half-open");
  });

  it("supports several listeners and unsubscribing", () => {
    const { breaker } = setup({ failureThreshold: 1 });
    const seen: string[] = [];
    const stop = breaker.onStateChange((to) => seen.push(to));
    failTimes(breaker, 1);
    stop();
    breaker.recordFailure();
    assert.deepEqual(seen, ["open"]);
  });

  it("rejects invalid options", () => {
    assert.throws(() => createCircuitBreaker({ failureThreshold: 0 }), RangeError);
    assert.throws(() => createCircuitBreaker({ halfOpenMaxRequests: 1.5 }), RangeError);
    assert.throws(() => createCircuitBreaker({ cooldownMs: -1 }), RangeError);
  });
});
