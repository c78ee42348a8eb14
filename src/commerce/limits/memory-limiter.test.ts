import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { limiterContractSuite } from "../../core/testing/limiter-contract.js";
import type { AdmissionDecision, AdmissionTicket } from "./limiter.js";
import { createMemoryLimiter } from "./memory-limiter.js";

/** A clock that moves only when told to (the limiter takes time as a port). */
function manualClock(start = 1_700_000_000_123) {
  let now = start;
  const clock: Clock = { now: () => now, monotonic: () => now };
  return {
    clock,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function refused(decision: AdmissionDecision) {
  assert.equal(decision.allowed, false);
  return decision as Extract<AdmissionDecision, { allowed: false }>;
}

limiterContractSuite("memory (default 60 s window, fake clock)", async () => {
  const time = manualClock();
  return {
    limiter: createMemoryLimiter({ clock: time.clock }),
    windowMs: 60_000,
    slotMs: 1_000,
    advance: async (ms) => time.advance(ms),
    now: () => time.clock.now(),
    clockToleranceMs: 0,
  };
});

limiterContractSuite("memory (1 s window of 50 ms slots, fake clock)", async () => {
  const time = manualClock(5);
  return {
    limiter: createMemoryLimiter({ clock: time.clock, windowMs: 1_000, slotMs: 50 }),
    windowMs: 1_000,
    slotMs: 50,
    advance: async (ms) => time.advance(ms),
    now: () => time.clock.now(),
    clockToleranceMs: 0,
  };
});

describe("memory limiter", () => {
  it("retryAfterMs is the exact earliest time: 1 ms sooner is still refused", async () => {
    const time = manualClock();
    const limiter = createMemoryLimiter({ clock: time.clock });
    const scopes = [{ key: "k", limits: { requestsPerMinute: 2, tokensPerMinute: 100 } }];
    await limiter.admit({ scopes, estimatedTokens: 10 });
    time.advance(20_000);
    await limiter.admit({ scopes, estimatedTokens: 80 });
    // Requests are full; the first slot (10 tokens, 1 request) frees first and is enough for both.
    const wait = refused(await limiter.admit({ scopes, estimatedTokens: 15 })).retryAfterMs;
    time.advance(wait - 1);
    refused(await limiter.admit({ scopes, estimatedTokens: 15 }));
    time.advance(1);
    assert.equal((await limiter.admit({ scopes, estimatedTokens: 15 })).allowed, true);
  });

  it("property: random traffic never exceeds the limit in any 60 s window", async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const time = manualClock(Math.floor(random() * 1e12));
      const limiter = createMemoryLimiter({ clock: time.clock });
      const limit = 1 + Math.floor(random() * 20);
      const tokenLimit = 100 + Math.floor(random() * 1_000);
      const scopes = [{ key: "k", limits: { requestsPerMinute: limit, tokensPerMinute: tokenLimit } }];
      const admittedAt: number[] = [];
      const tokensAt: { at: number; tokens: number }[] = [];
      for (let step = 0; step < 600; step++) {
        time.advance(Math.floor(random() * random() * 3_000));
        const estimate = Math.floor(random() * tokenLimit * 0.4);
        const decision = await limiter.admit({ scopes, estimatedTokens: estimate });
        if (!decision.allowed) {
          assert.ok(decision.retryAfterMs >= 1);
          continue;
        }
        admittedAt.push(time.clock.now());
        // Settle at once with at most the estimate, so every charge stays at its admission time.
        const actual = Math.floor(random() * (estimate + 1));
        await limiter.settle(decision.ticket, { tokens: actual });
        tokensAt.push({ at: time.clock.now(), tokens: actual });
      }
      for (const start of admittedAt) {
        const requests = admittedAt.filter((at) => at >= start && at < start + 60_000).length;
        assert.ok(requests <= limit, `round ${round}: ${requests} > ${limit} requests in a window`);
        const tokens = tokensAt
          .filter(({ at }) => at >= start && at < start + 60_000)
          .reduce((sum, { tokens: used }) => sum + used, 0);
        assert.ok(tokens <= tokenLimit, `round ${round}: ${tokens} > ${tokenLimit} tokens in a window`);
      }
      assert.ok(admittedAt.length >= limit, "traffic was admitted at all");
    }
  });

  it("a burst of the full limit is allowed, a second burst only after the window", async () => {
    const time = manualClock(0);
    const limiter = createMemoryLimiter({ clock: time.clock });
    const scopes = [{ key: "burst", limits: { requestsPerMinute: 100 } }];
    let admitted = 0;
    for (let index = 0; index < 250; index++)
      if ((await limiter.admit({ scopes, estimatedTokens: 0 })).allowed) admitted++;
    assert.equal(admitted, 100);
    time.advance(60_999); // the charges of slot 0 count until slot 61 begins
    assert.equal((await limiter.admit({ scopes, estimatedTokens: 0 })).allowed, false);
    time.advance(1);
    admitted = 0;
    for (let index = 0; index < 250; index++)
      if ((await limiter.admit({ scopes, estimatedTokens: 0 })).allowed) admitted++;
    assert.equal(admitted, 100);
  });

  it("settling after the reservation left the window charges an overshoot now and drops a refund", async () => {
    const time = manualClock(0);
    const limiter = createMemoryLimiter({ clock: time.clock });
    const scopes = [{ key: "late", limits: { tokensPerMinute: 1_000 } }];
    const over = await limiter.admit({ scopes, estimatedTokens: 100 });
    const under = await limiter.admit({ scopes, estimatedTokens: 100 });
    assert.ok(over.allowed && under.allowed);
    time.advance(120_000); // a two-minute stream
    await limiter.settle(over.ticket, { tokens: 400 }); // 300 more than reserved, charged now
    await limiter.settle(under.ticket, { tokens: 0 }); // the reservation already expired: nothing to refund
    const next = await limiter.admit({ scopes, estimatedTokens: 0 });
    assert.equal(next.headers.remainingTokens, 700);
  });

  it("forgets idle scopes, so memory stays bounded, but keeps scopes with requests in flight", async () => {
    const time = manualClock();
    const limiter = createMemoryLimiter({ clock: time.clock });
    const held: AdmissionTicket[] = [];
    for (let index = 0; index < 5_000; index++) {
      const decision = await limiter.admit({
        scopes: [{ key: `key-${index}`, limits: { requestsPerMinute: 10, concurrency: 1 } }],
        estimatedTokens: 0,
      });
      assert.ok(decision.allowed);
      if (index < 3) held.push(decision.ticket);
      else await limiter.release(decision.ticket);
    }
    assert.equal(limiter.scopeCount(), 5_000);
    const busy = [{ key: "busy", limits: { requestsPerMinute: 1_000_000 } }];
    time.advance(61_000);
    await limiter.admit({ scopes: busy, estimatedTokens: 0 });
    assert.equal(limiter.scopeCount(), 5_001, "one window idle is not yet enough to be forgotten");
    time.advance(61_000);
    await limiter.admit({ scopes: busy, estimatedTokens: 0 });
    assert.equal(limiter.scopeCount(), 4, "the busy scope and the three with a request in flight");
    for (let index = 0; index < 3; index++) {
      const decision = await limiter.admit({
        scopes: [{ key: `key-${index}`, limits: { concurrency: 1 } }],
        estimatedTokens: 0,
      });
      assert.equal(decision.allowed, false, "an evicted scope would have forgotten its slot");
      await limiter.release(held[index] as AdmissionTicket);
    }
  });

  it("rejects window options that do not fit", () => {
    assert.throws(() => createMemoryLimiter({ windowMs: 1_000, slotMs: 300 }), ModelportError);
    assert.throws(() => createMemoryLimiter({ windowMs: 0 }), ModelportError);
    assert.throws(() => createMemoryLimiter({ windowMs: 60_000, slotMs: 10 }), /at most 1000/);
  });
});
