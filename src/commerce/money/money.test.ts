import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import {
  addMicros,
  basisPointsOf,
  divideRoundHalfUp,
  formatMicros,
  multiplyMicros,
  parseDecimalMicros,
  perMillionCost,
  sumMicros,
} from "./money.js";

/** A small seeded PRNG (mulberry32), so a failing property run can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const field = { field: "pricing.inputPerMillionTokens", code: "MP_CONFIG_INVALID" as const };

describe("parseDecimalMicros", () => {
  it("parses decimal strings and numbers exactly", () => {
    assert.equal(parseDecimalMicros("0.15", field), 150_000);
    assert.equal(parseDecimalMicros(0.15, field), 150_000);
    assert.equal(parseDecimalMicros(0.3, field), 300_000);
    assert.equal(parseDecimalMicros("2.5", field), 2_500_000);
    assert.equal(parseDecimalMicros(10, field), 10_000_000);
    assert.equal(parseDecimalMicros("0.000001", field), 1);
    assert.equal(parseDecimalMicros(1e-6, field), 1);
    assert.equal(parseDecimalMicros("1e-6", field), 1);
    assert.equal(parseDecimalMicros("1.5E3", field), 1_500_000_000);
    assert.equal(parseDecimalMicros("0.1500000000", field), 150_000, "trailing zeros are not ambiguous");
    assert.equal(parseDecimalMicros(" 3 ", field), 3_000_000);
    assert.equal(parseDecimalMicros("+1", field), 1_000_000);
    assert.equal(parseDecimalMicros(0, field), 0);
    assert.equal(parseDecimalMicros(-0, field), 0);
    assert.equal(parseDecimalMicros("7.", field), 7_000_000);
  });

  it("a float that is not what it looks like in binary still parses to its decimal literal", () => {
    // 2.01 * 1e6 is 2009999.9999999998 in float arithmetic (truncation would lose a micro);
    // the decimal-string path gives exactly 2010000.
    assert.notEqual(2.01 * 1e6, 2_010_000);
    assert.equal(parseDecimalMicros(2.01, field), 2_010_000);
    assert.equal(parseDecimalMicros(1.005, field), 1_005_000);
  });

  const rejections: [unknown, RegExp][] = [
    [-0.15, /must not be negative/],
    ["-1", /must not be negative/],
    [Number.NaN, /NaN/],
    [0.1 + 0.2, /more than 6 decimal places/], // 0.30000000000000004: float noise is not a price
    [Number.POSITIVE_INFINITY, /finite/],
    [Number.NEGATIVE_INFINITY, /finite/],
    ["0.0000001", /more than 6 decimal places/],
    [1e-7, /more than 6 decimal places/],
    ["0.1234567", /more than 6 decimal places/],
    ["", /not a decimal amount/],
    ["abc", /not a decimal amount/],
    ["1,5", /not a decimal amount/],
    ["0x10", /not a decimal amount/],
    ["Infinity", /not a decimal amount/],
    [null, /got null/],
    [true, /got boolean/],
    ["1e400", /exponent out of range|too large/],
    ["99999999999", /too large/],
  ];
  for (const [input, pattern] of rejections) {
    it(`rejects ${typeof input === "string" ? JSON.stringify(input) : String(input)} naming the field`, () => {
      assert.throws(
        () => parseDecimalMicros(input, field),
        (error: unknown) =>
          error instanceof ModelportError &&
          error.code === "MP_CONFIG_INVALID" &&
          error.message.startsWith("pricing.inputPerMillionTokens: ") &&
          pattern.test(error.message),
      );
    });
  }

  it("defaults to MP_INVALID_REQUEST for API input", () => {
    assert.throws(
      () => parseDecimalMicros("-2", { field: "perRequest" }),
      (error: unknown) =>
        error instanceof ModelportError && error.code === "MP_INVALID_REQUEST" && error.status === 400,
    );
  });

  it("property: formatMicros and parseDecimalMicros are inverses on random amounts", () => {
    const random = seededRandom(42);
    for (let i = 0; i < 5_000; i += 1) {
      const micros = Math.floor(random() * 10 ** Math.floor(random() * 15));
      assert.equal(parseDecimalMicros(formatMicros(micros), { field: "x" }), micros);
    }
  });
});

describe("rounding and arithmetic", () => {
  it("divideRoundHalfUp rounds halves up (magnitude) and everything else to nearest", () => {
    assert.equal(divideRoundHalfUp(5n, 10n), 1n);
    assert.equal(divideRoundHalfUp(4n, 10n), 0n);
    assert.equal(divideRoundHalfUp(15n, 10n), 2n);
    assert.equal(divideRoundHalfUp(-15n, 10n), -2n);
    assert.equal(divideRoundHalfUp(-14n, 10n), -1n);
    assert.equal(divideRoundHalfUp(0n, 7n), 0n);
    assert.throws(() => divideRoundHalfUp(1n, 0n), ModelportError);
  });

  it("perMillionCost: 1,000 tokens at 0.15 USD/M is 150 micros; 1 token is 0.15 micros → 0", () => {
    assert.equal(perMillionCost(1_000, 150_000), 150);
    assert.equal(perMillionCost(1, 150_000), 0);
    assert.equal(perMillionCost(10, 150_000), 2, "1.5 micros rounds half up to 2");
    assert.equal(perMillionCost(3, 500_000), 2, "1.5 → 2");
    assert.equal(perMillionCost(1, 499_999), 0);
    assert.equal(perMillionCost(1, 500_000), 1);
  });

  it("perMillionCost stays exact where the float product would not (tokens × price > 2^53)", () => {
    // 9e6 tokens at 1,000,000,000 micros per million: the product 9e15 is exact in bigint.
    assert.equal(perMillionCost(9_000_000, 1_000_000_000), 9_000_000_000);
    assert.equal(perMillionCost(123_456_789, 987_654_321), 121_932_631_113);
  });

  it("property: perMillionCost is within half a micro of the exact rational, halves rounded up", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 20_000; i += 1) {
      const tokens = Math.floor(random() * 2_000_000);
      const price = Math.floor(random() * 100_000_000);
      const cost = BigInt(perMillionCost(tokens, price));
      const exactTimesMillion = BigInt(tokens) * BigInt(price);
      const error = cost * 1_000_000n - exactTimesMillion; // in millionths of a micro
      assert.ok(error > -500_000n && error <= 500_000n, `tokens=${tokens} price=${price} cost=${cost}`);
    }
  });

  it("property: sums of per-record costs equal the sum computed in bigint (no drift)", () => {
    const random = seededRandom(99);
    let total = 0;
    let exact = 0n;
    for (let i = 0; i < 10_000; i += 1) {
      const cost = perMillionCost(Math.floor(random() * 100_000), Math.floor(random() * 60_000_000));
      total = addMicros(total, cost);
      exact += BigInt(cost);
    }
    assert.equal(BigInt(total), exact);
  });

  it("addMicros and sumMicros refuse to leave the safe-integer range", () => {
    assert.equal(sumMicros([1, 2, 3]), 6);
    assert.throws(() => addMicros(Number.MAX_SAFE_INTEGER, 1), /safe-integer/);
    assert.throws(() => addMicros(0.5, 1), /safe-integer/);
  });

  it("multiplyMicros is exact and checks overflow", () => {
    assert.equal(multiplyMicros(3, 1_000), 3_000);
    assert.throws(() => multiplyMicros(2 ** 40, 2 ** 20), /overflows/);
    assert.throws(() => multiplyMicros(1.5, 2), /safe integer/);
  });

  it("basisPointsOf: 10% of 15 micros is 2 (1.5 half up), -10% is -2; 0 bps is 0", () => {
    assert.equal(basisPointsOf(15, 1_000), 2);
    assert.equal(basisPointsOf(15, -1_000), -2);
    assert.equal(basisPointsOf(14, 1_000), 1);
    assert.equal(basisPointsOf(1_000_000, 0), 0);
    assert.equal(basisPointsOf(1_000_000, 2_500), 250_000);
  });

  it("formatMicros prints exactly six decimals", () => {
    assert.equal(formatMicros(150_000), "0.150000");
    assert.equal(formatMicros(1_000_001), "1.000001");
    assert.equal(formatMicros(-2), "-0.000002");
    assert.equal(formatMicros(0), "0.000000");
    assert.equal(formatMicros(Number.MAX_SAFE_INTEGER), "9007199254.740991");
  });
});
