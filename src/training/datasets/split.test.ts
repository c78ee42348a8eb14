import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { createSeededRandom } from "./seeded-random.js";
import { splitDataset } from "./split.js";

function counts(labels: readonly string[], indices: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of indices) out.set(labels[i] as string, (out.get(labels[i] as string) ?? 0) + 1);
  return out;
}

/** Imbalanced classes of awkward sizes: 4150/1896 like spam, plus tiny ones. */
const labels = [
  ...Array<string>(415).fill("ham"),
  ...Array<string>(189).fill("spam"),
  ...Array<string>(7).fill("rare"),
  ...Array<string>(1).fill("single"),
];
createSeededRandom(99).shuffle(labels);

test("stratified: every class is within ±1 of its share in every split, and totals follow the fractions", () => {
  for (const fractions of [
    { train: 0.8, validation: 0.1, test: 0.1 },
    { train: 0.8, test: 0.2 },
    { train: 0.7, validation: 0.15, test: 0.15 },
  ]) {
    for (const seed of [1, 2, "digits-v1"]) {
      const split = splitDataset(labels.length, { ...fractions, seed, strata: labels });
      const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
      assert.deepEqual(
        all,
        labels.map((_, i) => i),
        "a partition of the rows",
      );
      const classTotals = counts(labels, all);
      for (const [name, share] of [
        ["train", fractions.train],
        ["validation", fractions.validation ?? 0],
        ["test", fractions.test],
      ] as const) {
        const part = split[name];
        assert.ok(Math.abs(part.length - labels.length * share) < 1 + 1e-9, `${name} total ${part.length}`);
        const perClass = counts(labels, part);
        for (const [label, total] of classTotals) {
          const got = perClass.get(label) ?? 0;
          assert.ok(Math.abs(got - total * share) < 1, `${name}/${label}: ${got} vs ${total * share}`);
        }
      }
    }
  }
});

test("the same seed gives the same split; another seed another", () => {
  const options = { train: 0.8, validation: 0.1, test: 0.1, strata: labels };
  const a = splitDataset(labels.length, { ...options, seed: 42 });
  const b = splitDataset(labels.length, { ...options, seed: 42 });
  const c = splitDataset(labels.length, { ...options, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.test, c.test);
  // Classes are interleaved in each split, not grouped.
  const firstHundred = counts(labels, a.train.slice(0, 100));
  assert.ok((firstHundred.get("spam") ?? 0) > 10 && (firstHundred.get("ham") ?? 0) > 40);
});

test("without strata the split is a seeded shuffle with exact totals", () => {
  const split = splitDataset(10, { train: 0.8, test: 0.2, seed: 5 });
  assert.equal(split.train.length, 8);
  assert.equal(split.test.length, 2);
  assert.equal(split.validation.length, 0);
  assert.deepEqual(splitDataset(10, { train: 0.8, test: 0.2, seed: 5 }), split);
});

test("bad fractions and sizes are refused", () => {
  const invalid = (error: unknown) => error instanceof ModelportError && error.code === "MP_INVALID_REQUEST";
  assert.throws(() => splitDataset(10, { train: 0.8, test: 0.1, seed: 1 }), invalid);
  assert.throws(() => splitDataset(10, { train: 1.2, test: -0.2, seed: 1 }), invalid);
  assert.throws(() => splitDataset(10, { train: 0, test: 1, seed: 1 }), invalid);
  assert.throws(() => splitDataset(0, { train: 0.8, test: 0.2, seed: 1 }), invalid);
  assert.throws(() => splitDataset(3, { train: 0.8, test: 0.2, seed: 1, strata: ["a"] }), invalid);
});

test("the seeded generator is deterministic, uniform enough, and distinguishes seeds", () => {
  const a = createSeededRandom(1);
  const b = createSeededRandom(1);
  const sequence = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    Array.from({ length: 5 }, () => b.next()),
    sequence,
  );
  const other = createSeededRandom(2);
  assert.notDeepEqual(
    Array.from({ length: 5 }, () => other.next()),
    sequence,
  );
  assert.notEqual(createSeededRandom(2 ** 32 + 1).next(), createSeededRandom(1).next());
  const random = createSeededRandom("x");
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const value = random.next();
    assert.ok(value >= 0 && value < 1);
    buckets[Math.floor(value * 10)] = (buckets[Math.floor(value * 10)] as number) + 1;
  }
  for (const bucket of buckets) assert.ok(bucket > 850 && bucket < 1150, `bucket ${bucket}`);
  assert.throws(() => random.integer(0), RangeError);
});
