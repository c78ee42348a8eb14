import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { createRedisLimiter } from "../src/commerce/limits/redis-limiter.js";
import {
  deleteKeys,
  probeRedis,
  reportRedisUnavailable,
  startPrivateRedis,
} from "../src/commerce/limits/testing/redis-test-support.js";
import { ModelportError } from "../src/core/errors.js";
import { randomId } from "../src/core/ids.js";
import { limiterContractSuite } from "../src/core/testing/limiter-contract.js";

const probe = await probeRedis();
if (probe.state !== "ready") {
  reportRedisUnavailable("Redis rate limiter", probe);
} else {
  const url = probe.url;
  const runPrefix = `{mp-test-limits-${randomId("run", 10)}}`;
  const admin = new Redis(url);
  after(async () => {
    await deleteKeys(admin, runPrefix);
    admin.disconnect();
  });

  limiterContractSuite("redis (1 s window of 50 ms slots, real time)", async () => ({
    limiter: createRedisLimiter({ url, prefix: `${runPrefix}:contract`, windowMs: 1_000, slotMs: 50 }),
    windowMs: 1_000,
    slotMs: 50,
    advance: (ms) => sleep(ms),
    now: () => Date.now(),
    clockToleranceMs: 3,
  }));

  describe("Redis limiter", () => {
    it("two clients on one prefix share exact counts; another prefix is another limiter", async () => {
      const prefix = `${runPrefix}:shared`;
      const first = createRedisLimiter({ url, prefix });
      const second = createRedisLimiter({ url, prefix });
      const other = createRedisLimiter({ url, prefix: `${runPrefix}:other` });
      try {
        const scopes = [{ key: "tenant:t1", limits: { requestsPerMinute: 30 } }];
        const decisions = await Promise.all(
          Array.from({ length: 40 }, (_, index) =>
            (index % 2 === 0 ? first : second).admit({ scopes, estimatedTokens: 0 }),
          ),
        );
        assert.equal(decisions.filter((decision) => decision.allowed).length, 30);
        assert.equal((await other.admit({ scopes, estimatedTokens: 0 })).allowed, true);
      } finally {
        await Promise.all([first.close(), second.close(), other.close()]);
      }
    });

    it("counts in slots of Redis TIME and gives every key a TTL", async () => {
      const prefix = `${runPrefix}:ttl`;
      const limiter = createRedisLimiter({ url, prefix, windowMs: 10_000, slotMs: 500, leaseMs: 30_000 });
      try {
        const decision = await limiter.admit({
          scopes: [{ key: "k", limits: { requestsPerMinute: 5, concurrency: 2 } }],
          estimatedTokens: 0,
        });
        assert.ok(decision.allowed);
        const [seconds, micros] = await admin.time();
        const redisSlot = Math.floor((Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000)) / 500);
        const cursor = Number(await admin.hget(`${prefix}:w:k`, "cursor"));
        assert.ok(redisSlot - cursor >= 0 && redisSlot - cursor <= 1, `cursor ${cursor} vs Redis slot ${redisSlot}`);
        const windowTtl = await admin.pttl(`${prefix}:w:k`);
        assert.ok(windowTtl > 0 && windowTtl <= 11_000, `window ttl ${windowTtl}`);
        const leaseTtl = await admin.pttl(`${prefix}:c:k`);
        assert.ok(leaseTtl > 25_000 && leaseTtl <= 30_000, `lease ttl ${leaseTtl}`);
        await limiter.release(decision.ticket);
        assert.equal(await admin.zcard(`${prefix}:c:k`), 0, "release removed the lease");
      } finally {
        await limiter.close();
      }
    });

    it("a crashed process's concurrency slot comes back after leaseMs", async () => {
      const prefix = `${runPrefix}:lease`;
      const scopes = [{ key: "k", limits: { concurrency: 2 } }];
      const crashed = createRedisLimiter({ url, prefix, leaseMs: 400 });
      assert.equal((await crashed.admit({ scopes, estimatedTokens: 0 })).allowed, true);
      await crashed.close(); // never settles: the process "died" holding a slot
      const survivor = createRedisLimiter({ url, prefix, leaseMs: 400 });
      try {
        await sleep(250);
        const live = await survivor.admit({ scopes, estimatedTokens: 0 }); // renews the set's TTL
        assert.ok(live.allowed);
        assert.equal((await survivor.admit({ scopes, estimatedTokens: 0 })).allowed, false, "both slots held");
        await sleep(200); // the crashed lease has expired; the set itself lives on
        assert.equal(await admin.exists(`${prefix}:c:k`), 1);
        const after = await survivor.admit({ scopes, estimatedTokens: 0 });
        assert.equal(after.allowed, true, "the expired lease no longer counts");
        assert.equal((await survivor.admit({ scopes, estimatedTokens: 0 })).allowed, false);
      } finally {
        await survivor.close();
      }
    });

    it("a refund after Redis lost data never takes back more than the slot holds", async () => {
      const prefix = `${runPrefix}:loss`;
      const limiter = createRedisLimiter({ url, prefix, windowMs: 2_000, slotMs: 200 });
      const scopes = [{ key: "k", limits: { tokensPerMinute: 1_000 } }];
      try {
        for (let attempt = 0; ; attempt++) {
          const lost = await limiter.admit({ scopes, estimatedTokens: 300 });
          await admin.del(`${prefix}:w:k`); // Redis lost the window (failover without the write)
          const sameSlot = await limiter.admit({ scopes, estimatedTokens: 100 });
          assert.ok(lost.allowed && sameSlot.allowed);
          if (lost.ticket.scopes[0]?.tokenSlot !== sameSlot.ticket.scopes[0]?.tokenSlot) {
            assert.ok(attempt < 5, "could not land two admissions in one slot");
            await admin.del(`${prefix}:w:k`);
            continue;
          }
          await sleep(220);
          const later = await limiter.admit({ scopes, estimatedTokens: 100 });
          assert.ok(later.allowed);
          assert.equal(later.headers.remainingTokens, 800);
          // Refunding 300 from a slot that holds 100 takes back 100, not 300 from the total.
          await limiter.settle(lost.ticket, { tokens: 0 });
          const check = await limiter.admit({ scopes, estimatedTokens: 0 });
          assert.equal(check.headers.remainingTokens, 900);
          break;
        }
      } finally {
        await limiter.close();
      }
    });

    it("leaves no key without an expiry", async () => {
      const prefix = `${runPrefix}:expiry`;
      const limiter = createRedisLimiter({ url, prefix, leaseMs: 60_000 });
      try {
        const scope = (key: string) => [
          { key, limits: { requestsPerMinute: 5, tokensPerMinute: 100, concurrency: 1 } },
        ];
        await limiter.admit({ scopes: scope("too-large"), estimatedTokens: 500 }); // refused on a fresh scope
        const held = await limiter.admit({ scopes: scope("held"), estimatedTokens: 10 });
        assert.ok(held.allowed);
        await limiter.admit({ scopes: scope("held"), estimatedTokens: 10 }); // refused: concurrency
        const settled = await limiter.admit({ scopes: scope("settled"), estimatedTokens: 10 });
        assert.ok(settled.allowed);
        await limiter.settle(settled.ticket, { tokens: 50 });
        let cursor = "0";
        let checked = 0;
        do {
          const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 100);
          cursor = next;
          for (const key of keys) {
            checked += 1;
            assert.ok((await admin.pttl(key)) > 0, `${key} has no TTL`);
          }
        } while (cursor !== "0");
        assert.ok(checked >= 4, `checked ${checked} keys`);
      } finally {
        await limiter.close();
      }
    });

    it("reloads its script after NOSCRIPT (a flushed or restarted Redis) and keeps counting", async () => {
      const server = await startPrivateRedis();
      const limiter = createRedisLimiter({ url: server.url, prefix: "{t}" });
      const client = new Redis(server.url);
      try {
        const scopes = [{ key: "k", limits: { requestsPerMinute: 3 } }];
        assert.equal((await limiter.admit({ scopes, estimatedTokens: 0 })).allowed, true);
        await client.script("FLUSH");
        const [loaded] = (await client.script("EXISTS", "0".repeat(40))) as number[];
        assert.equal(loaded, 0);
        const second = await limiter.admit({ scopes, estimatedTokens: 0 });
        assert.ok(second.allowed);
        assert.equal(second.headers.remainingRequests, 1, "the count survived the flush");
        await client.script("FLUSH");
        await limiter.settle(second.ticket, { tokens: 5 }); // settle reloads too
      } finally {
        client.disconnect();
        await limiter.close();
        await server.kill();
      }
    });

    it("fails closed with MP_LIMITER_UNAVAILABLE when Redis goes down, or admits degraded with failOpen", async () => {
      const server = await startPrivateRedis();
      const errors: ModelportError[] = [];
      const closed = createRedisLimiter({
        url: server.url,
        commandTimeoutMs: 500,
        onError: (error) => errors.push(error),
      });
      const open = createRedisLimiter({ url: server.url, commandTimeoutMs: 500, failOpen: true });
      const scopes = [{ key: "k", limits: { requestsPerMinute: 100, concurrency: 5 } }];
      try {
        const before = await closed.admit({ scopes, estimatedTokens: 0 });
        assert.ok(before.allowed);
        assert.ok((await open.admit({ scopes, estimatedTokens: 0 })).allowed);
        await server.kill();

        const started = Date.now();
        await assert.rejects(closed.admit({ scopes, estimatedTokens: 0 }), (error: unknown) => {
          assert.ok(error instanceof ModelportError);
          assert.equal(error.code, "MP_LIMITER_UNAVAILABLE");
          assert.equal(error.status, 503);
          assert.equal(error.isRetryable, true);
          return true;
        });
        assert.ok(Date.now() - started < 5_000, "the decision fails fast instead of hanging");
        assert.equal(errors.length, 1);
        await assert.rejects(closed.settle(before.ticket, { tokens: 1 }), { code: "MP_LIMITER_UNAVAILABLE" });

        const degraded = await open.admit({ scopes, estimatedTokens: 0 });
        assert.ok(degraded.allowed, "failOpen admits");
        assert.equal(degraded.ticket.degraded, true);
        assert.deepEqual(degraded.headers, {});
        await open.settle(degraded.ticket, { tokens: 3 }); // no store to settle in: a no-op
      } finally {
        await closed.close();
        await open.close();
        await server.kill();
      }
    });

    it("rejects a limiter without url or client, and bad options", () => {
      assert.throws(() => createRedisLimiter({}), ModelportError);
      assert.throws(() => createRedisLimiter({ url, leaseMs: 0 }), ModelportError);
    });
  });
}
