import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMemoryCacheStore } from "./memory-store.js";

describe("in-memory cache store", () => {
  it("expires an entry after its TTL", async () => {
    let now = 1_000;
    const store = createMemoryCacheStore({ maxEntries: 10, now: () => now });
    await store.set("a", "answer", 5);
    now += 4_999;
    assert.equal(await store.get("a"), "answer");
    now += 2;
    assert.equal(await store.get("a"), undefined);
  });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    await store.set("a", "1", 60);
    await store.set("b", "2", 60);
    assert.equal(await store.get("a"), "1"); // a is now the most recently used
    await store.set("c", "3", 60);
    assert.equal(await store.get("b"), undefined);
    assert.equal(await store.get("a"), "1");
    assert.equal(await store.get("c"), "3");
  });

  it("evicts the least recently used entries beyond maxBytes and skips an entry larger than it", async () => {
    const store = createMemoryCacheStore({ maxEntries: 100, maxBytes: 30 });
    await store.set("a", "x".repeat(9), 60); // 10 with the key
    await store.set("b", "x".repeat(9), 60);
    await store.set("c", "x".repeat(9), 60);
    await store.set("d", "x".repeat(9), 60);
    assert.equal(await store.get("a"), undefined);
    assert.equal(await store.get("d"), "x".repeat(9));
    await store.set("e", "x".repeat(40), 60);
    assert.equal(await store.get("e"), undefined);
    assert.equal(await store.get("d"), "x".repeat(9), "a too-large entry evicts nothing");
  });

  it("is empty after close", async () => {
    const store = createMemoryCacheStore({ maxEntries: 2 });
    await store.set("a", "1", 60);
    await store.close();
    assert.equal(await store.get("a"), undefined);
  });
});
