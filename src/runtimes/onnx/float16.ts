/**
 * IEEE 754 half-precision conversions. onnxruntime-node carries float16 tensors as raw bits in a
 * Uint16Array (Node 20 has no Float16Array), while OIP's JSON carries plain numbers.
 */

const float32 = new Float32Array(1);
const float32Bits = new Uint32Array(float32.buffer);

/**
 * Rounds a number to the nearest half (ties to even) and returns its bits. The value goes through
 * float32 first, which can double-round in rare ties; half precision is lossy either way.
 * Magnitudes beyond 65504 become ±Infinity, as IEEE conversion does.
 */
export function toFloat16Bits(value: number): number {
  float32[0] = value;
  const bits = float32Bits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200); // Infinity or NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the mantissa, with its implicit leading 1, into place.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
