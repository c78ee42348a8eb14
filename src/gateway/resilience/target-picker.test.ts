import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { pickSticky, pickWeighted } from "./target-picker.js";

/** A seeded PRNG (mulberry32), so distribution tests are reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const targets = [
  { id: "openai/gpt-4o-mini", weight: 70 },
  { id: "mock/canary", weight: 20 },
  { id: "onnx/local", weight: 10 },
];

function shares(pick: (index: number) => number, count: number, size: number): number[] {
  const counts = new Array<number>(size).fill(0);
  for (let index = 0; index < count; index++) {
    const chosen = pick(index);
    counts[chosen] = (counts[chosen] ?? 0) + 1;
  }
  return counts.map((value) => value / count);
}

function assertShares(actual: number[], expected: number[], tolerance: number): void {
  actual.forEach((share, index) => {
    const want = expected[index] ?? 0;
    assert.ok(Math.abs(share - want) <= tolerance, `target ${index}: share ${share.toFixed(4)}, expected ${want}`);
  });
}

describe("pickWeighted", () => {
  it("splits traffic by weight within tolerance", () => {
    const random = seededRandom(7);
    assertShares(
      shares(() => pickWeighted(targets, random), 10_000, 3),
      [0.7, 0.2, 0.1],
      0.02,
    );
  });

  it("maps the random draw onto cumulative weights", () => {
    assert.equal(
      pickWeighted(targets, () => 0),
      0,
    );
    assert.equal(
      pickWeighted(targets, () => 0.6999),
      0,
    );
    assert.equal(
      pickWeighted(targets, () => 0.7),
      1,
    );
    assert.equal(
      pickWeighted(targets, () => 0.95),
      2,
    );
    assert.equal(
      pickWeighted(targets, () => 1 - Number.EPSILON),
      2,
    );
  });

  it("never chooses a zero-weight target, even at the edges", () => {
    const list = [{ weight: 0 }, { weight: 1 }, { weight: 0 }, { weight: 1 }, { weight: 0 }];
    for (const draw of [0, 0.25, 0.5, 0.75, 1 - Number.EPSILON]) {
      const chosen = pickWeighted(list, () => draw);
      assert.ok(chosen === 1 || chosen === 3, `draw ${draw} chose ${chosen}`);
    }
  });

  it("rejects empty lists, all-zero and invalid weights", () => {
    const isConfigError = (error: unknown) => error instanceof ModelportError && error.code === "MP_CONFIG_INVALID";
    assert.throws(() => pickWeighted([], Math.random), isConfigError);
    assert.throws(() => pickWeighted([{ weight: 0 }, { weight: 0 }], Math.random), isConfigError);
    assert.throws(() => pickWeighted([{ weight: -1 }, { weight: 2 }], Math.random), isConfigError);
    assert.throws(() => pickWeighted([{ weight: Number.NaN }], Math.random), isConfigError);
    assert.throws(() => pickWeighted([{ weight: Number.POSITIVE_INFINITY }], Math.random), isConfigError);
  });
});

describe("pickSticky", () => {
  it("matches the weights over 10k keys", () => {
    assertShares(
      shares((index) => pickSticky(targets, `user-${index}`), 10_000, 3),
      [0.7, 0.2, 0.1],
      0.02,
    );
  });

  it("always sends the same key to the same target, independent of list order", () => {
    const reversed = [...targets].reverse();
    for (let index = 0; index < 500; index++) {
      const key = `tenant-a:user-${index}`;
      const first = targets[pickSticky(targets, key)]?.id;
      assert.equal(targets[pickSticky(targets, key)]?.id, first);
      assert.equal(reversed[pickSticky(reversed, key)]?.id, first);
    }
  });

  it("moves only a proportional share of keys, all towards the target whose weight grew", () => {
    const before = [
      { id: "a", weight: 50 },
      { id: "b", weight: 30 },
      { id: "c", weight: 20 },
    ];
    const after = [
      { id: "a", weight: 50 },
      { id: "b", weight: 30 },
      { id: "c", weight: 40 },
    ];
    const keys = 10_000;
    let moved = 0;
    for (let index = 0; index < keys; index++) {
      const key = `k${index}`;
      const from = before[pickSticky(before, key)]?.id;
      const to = after[pickSticky(after, key)]?.id;
      if (from === to) continue;
      moved++;
      assert.equal(to, "c", `key ${key} moved ${from} → ${to}; only moves to c are allowed`);
    }
    const expected = 40 / 120 - 20 / 100; // c's share grew from 0.2 to 0.333
    assert.ok(Math.abs(moved / keys - expected) < 0.02, `moved ${moved / keys}, expected ≈ ${expected}`);
  });

  it("moves only the keys of a target that is drained to weight 0", () => {
    const before = targets;
    const after = targets.map((target) => (target.id === "mock/canary" ? { ...target, weight: 0 } : target));
    for (let index = 0; index < 2_000; index++) {
      const key = `u${index}`;
      const from = before[pickSticky(before, key)]?.id;
      const to = after[pickSticky(after, key)]?.id;
      assert.notEqual(to, "mock/canary");
      if (from !== "mock/canary") assert.equal(to, from, "keys of other targets stay put");
    }
  });

  it("never chooses zero-weight targets and rejects all-zero lists", () => {
    const list = [
      { id: "x", weight: 0 },
      { id: "y", weight: 3 },
    ];
    for (let index = 0; index < 200; index++) assert.equal(pickSticky(list, `key-${index}`), 1);
    assert.throws(
      () => pickSticky([{ id: "x", weight: 0 }], "k"),
      (error: unknown) => error instanceof ModelportError && error.code === "MP_CONFIG_INVALID",
    );
  });
});
