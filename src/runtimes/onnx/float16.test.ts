import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromFloat16Bits, toFloat16Bits } from "./float16.js";

describe("float16 conversions", () => {
  it("encodes known values to their IEEE half bits", () => {
    const known: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [1.5, 0x3e00],
      [65504, 0x7bff], // largest finite half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [0.1, 0x2e66], // rounds to nearest
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
      [1e6, 0x7c00], // overflow
      [2 ** -26, 0x0000], // underflow
    ];
    for (const [value, bits] of known) assert.equal(toFloat16Bits(value), bits, `toFloat16Bits(${value})`);
  });

  it("rounds ties to even", () => {
    // 1 + 2^-11 lies halfway between 1 (even) and 1 + 2^-10 (odd).
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00);
    // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
  });

  it("decodes every finite half and re-encodes it to the same bits", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >>> 10) & 0x1f;
      const value = fromFloat16Bits(bits);
      if (exponent === 0x1f) {
        assert.ok(Number.isNaN(value) || !Number.isFinite(value));
        continue;
      }
      assert.equal(toFloat16Bits(value), bits, `bits 0x${bits.toString(16)} → ${value}`);
    }
    assert.ok(Number.isNaN(fromFloat16Bits(0x7e00)));
    assert.equal(fromFloat16Bits(0xfc00), Number.NEGATIVE_INFINITY);
  });
});
