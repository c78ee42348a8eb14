import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createKeyCache } from "./key-cache.js";

function manualClock() {
  let now = 1_000;
  return { now: () => now, monotonic: () => now, advance: (ms: number) => (now += ms) };
}

describe("key cache", () => {
  it("evicts the least recently used entry beyond maxEntries", () => {
    const cache = createKeyCache<number>({ maxEntries: 2, ttlMs: 60_000, clock: manualClock() });
    cache.set("a", 1);
    cache.set("b", 2);
    assert.equal(cache.get("a"), 1); // a is now the most recently used
    cache.set("c", 3);
    assert.equal(cache.get("b"), undefined);
    assert.equal(cache.get("a"), 1);
    assert.equal(cache.get("c"), 3);
    assert.equal(cache.size, 2);
  });

  it("forgets entries after ttlMs", () => {
    const clock = manualClock();
    const cache = createKeyCache<number>({ maxEntries: 10, ttlMs: 100, clock });
    cache.set("a", 1);
    clock.advance(99);
    assert.equal(cache.get("a"), 1);
    clock.advance(101);
    assert.equal(cache.get("a"), undefined);
    assert.equal(cache.size, 0);
  });

  it("drops one tenant's entries by prefix, and a zero ttl disables caching", () => {
    const cache = createKeyCache<number>({ maxEntries: 10, ttlMs: 100, clock: manualClock() });
    cache.set("t1\u00001", 1);
    cache.set("t1\u0000current", 1);
    cache.set("t10\u00001", 2);
    cache.deletePrefix("t1\u0000");
    assert.equal(cache.get("t1\u00001"), undefined);
    assert.equal(cache.get("t1\u0000current"), undefined);
    assert.equal(cache.get("t10\u00001"), 2);
    const off = createKeyCache<number>({ maxEntries: 10, ttlMs: 0, clock: manualClock() });
    off.set("a", 1);
    assert.equal(off.get("a"), undefined);
  });
});
