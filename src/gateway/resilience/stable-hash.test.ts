import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FNV_OFFSET_BASIS, fnv1aUpdate, stableHash32 } from "./stable-hash.js";

describe("stableHash32", () => {
  it("matches FNV-1a's published value for ASCII before finalizing", () => {
    // FNV-1a 32 of "a" is 0xe40c292c; our code-unit variant also mixes the (zero) high byte.
    const lowOnly = Math.imul(FNV_OFFSET_BASIS ^ 0x61, 0x01000193) >>> 0;
    assert.equal(lowOnly, 0xe40c292c);
    assert.equal(fnv1aUpdate(FNV_OFFSET_BASIS, "a"), Math.imul(lowOnly ^ 0, 0x01000193) >>> 0);
  });

  it("is stable, unsigned 32-bit, and continuing a prefix equals hashing the whole", () => {
    const value = stableHash32("user-42");
    assert.equal(value, stableHash32("user-42"));
    assert.ok(Number.isInteger(value) && value >= 0 && value < 2 ** 32);
    assert.equal(fnv1aUpdate(fnv1aUpdate(FNV_OFFSET_BASIS, "user-"), "42"), fnv1aUpdate(FNV_OFFSET_BASIS, "user-42"));
  });

  it("spreads sequential keys evenly over buckets", () => {
    const buckets = new Array<number>(16).fill(0);
    const keys = 16_000;
    for (let index = 0; index < keys; index++) {
      const bucket = stableHash32(`user-${index}`) >>> 28;
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) assert.ok(Math.abs(count - 1000) < 120, `bucket count ${count} far from 1000`);
  });

  it("distinguishes non-ASCII strings that share low bytes", () => {
    // U+0161 and U+0061 share the low byte 0x61; the high byte must still change the hash.
    assert.notEqual(stableHash32("\u0161"), stableHash32("a"));
  });
});
