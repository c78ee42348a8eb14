import type { ErrorCode } from "../../core/error-codes.js";
import { ModelportError } from "../../core/errors.js";

/**
 * Money is an integer count of micro-units of a currency: 1 USD = 1_000_000 micros.
 *
 * Representation: a JS `number` that must stay a safe integer (|n| ≤ 2^53 − 1 ≈ 9.007e15
 * micros ≈ 9 billion USD). One request, one invoice line and one tenant-month are far below
 * that, so numbers keep the hot path and JSON simple; every sum goes through `addMicros`, which
 * throws instead of silently losing precision. Intermediate products (tokens × price per
 * million tokens, amount × basis points) can exceed 2^53, so they are computed in `bigint` and
 * rounded once back to a safe integer.
 */
export type Micros = number;

export const microsPerUnit = 1_000_000;
const microsPerUnitBig = 1_000_000n;
const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

export interface MoneyErrorContext {
  /** Dotted name of the field at fault, named in the message (`endpoints.chat.pricing.perRequest`). */
  field: string;
  /** MP_CONFIG_INVALID for config, MP_INVALID_REQUEST for API input. */
  code?: ErrorCode;
}

function fail(context: MoneyErrorContext, message: string): never {
  throw new ModelportError(context.code ?? "MP_INVALID_REQUEST", `${context.field}: ${message}`, {
    param: context.field,
  });
}

/** Asserts `value` is a safe integer (micros, tokens or counts) and returns it. */
export function assertSafeInteger(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new ModelportError(
      "MP_INTERNAL",
      `${field} is not a safe integer (${String(value)}); money and counts are integers below 2^53`,
    );
  }
  return value;
}

/** Converts a bigint to a safe-integer number, or throws naming the field. */
export function toSafeNumber(value: bigint, field: string): number {
  if (value > maxSafe || value < -maxSafe) {
    throw new ModelportError("MP_INTERNAL", `${field} overflows 2^53 micros (${value.toString()})`);
  }
  return Number(value);
}

/** a + b, throwing when the sum leaves the safe-integer range. */
export function addMicros(a: Micros, b: Micros): Micros {
  const sum = a + b;
  if (!Number.isSafeInteger(sum) || !Number.isSafeInteger(a) || !Number.isSafeInteger(b)) {
    throw new ModelportError("MP_INTERNAL", `money sum ${String(a)} + ${String(b)} leaves the safe-integer range`);
  }
  return sum;
}

export function sumMicros(values: Iterable<Micros>): Micros {
  let total = 0;
  for (const value of values) total = addMicros(total, value);
  return total;
}

/**
 * Rounds numerator / denominator to an integer, half up (away from zero for negatives: the
 * magnitude is rounded half up, then the sign is restored). Exact: bigint throughout.
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new ModelportError("MP_INTERNAL", "divideRoundHalfUp needs a positive denominator");
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const rounded = (magnitude * 2n + denominator) / (denominator * 2n);
  return negative ? -rounded : rounded;
}

/**
 * The cost of `quantity` units at `microsPerMillion` micros per million units, rounded half up
 * to the micro. This is the one rounding step of a usage charge (see pricing/cost.ts).
 */
export function perMillionCost(quantity: number, microsPerMillion: Micros, field = "cost"): Micros {
  assertSafeInteger(quantity, `${field} quantity`);
  assertSafeInteger(microsPerMillion, `${field} price`);
  return toSafeNumber(divideRoundHalfUp(BigInt(quantity) * BigInt(microsPerMillion), 1_000_000n), field);
}

/** quantity × unit price, both integers: exact, no rounding. */
export function multiplyMicros(quantity: number, unitMicros: Micros, field = "amount"): Micros {
  assertSafeInteger(quantity, `${field} quantity`);
  assertSafeInteger(unitMicros, `${field} unit price`);
  return toSafeNumber(BigInt(quantity) * BigInt(unitMicros), field);
}

/** amount × bps / 10_000, rounded half up on the magnitude (a 10% discount of 15 micros is 2, not 1). */
export function basisPointsOf(amount: Micros, basisPoints: number, field = "adjustment"): Micros {
  assertSafeInteger(amount, `${field} base`);
  assertSafeInteger(basisPoints, `${field} basis points`);
  return toSafeNumber(divideRoundHalfUp(BigInt(amount) * BigInt(basisPoints), 10_000n), field);
}

const decimalPattern = /^(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/**
 * Parses a non-negative decimal amount of currency units ("0.15", 0.15, "1e-6") into micros,
 * exactly: the decimal string is parsed digit by digit, never multiplied as a float. Numbers go
 * through `String(n)`, JavaScript's shortest round-trip form, which is the literal the user wrote
 * for any value with ≤ 15 significant digits (YAML `0.15` → "0.15").
 *
 * Rejected, with a message naming the field: negative values, NaN, ±Infinity, empty or
 * malformed strings, and more than 6 decimal places (a fraction of a micro would have to be
 * rounded, so the price would be ambiguous). Trailing zeros beyond 6 places are fine.
 */
export function parseDecimalMicros(input: unknown, context: MoneyErrorContext): Micros {
  let text: string;
  if (typeof input === "number") {
    if (Number.isNaN(input)) fail(context, "must be a number, got NaN");
    if (!Number.isFinite(input)) fail(context, `must be finite, got ${String(input)}`);
    if (input < 0) fail(context, `must not be negative, got ${String(input)}`);
    text = String(Object.is(input, -0) ? 0 : input);
  } else if (typeof input === "string") {
    text = input.trim();
    if (text.startsWith("-")) fail(context, `must not be negative, got "${input}"`);
    if (text.startsWith("+")) text = text.slice(1);
  } else {
    return fail(context, `must be a decimal number or string, got ${input === null ? "null" : typeof input}`);
  }
  const match = decimalPattern.exec(text);
  if (match === null) fail(context, `is not a decimal amount: "${String(input)}" (write e.g. 0.15)`);
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  const exponent = match[3] === undefined ? 0 : Number(match[3]);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) fail(context, `exponent out of range: "${text}"`);
  // value = digits × 10^(exponent − fraction.length); micros = value × 10^6.
  const digits = BigInt(`${whole}${fraction}`);
  const shift = exponent - fraction.length + 6;
  let micros: bigint;
  if (shift >= 0) {
    micros = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n) {
      fail(context, `has more than 6 decimal places ("${String(input)}"); the smallest unit is 0.000001`);
    }
    micros = digits / divisor;
  }
  if (micros > maxSafe) fail(context, `is too large ("${String(input)}")`);
  return Number(micros);
}

/** Micros as a fixed 6-decimal string ("0.150000", "-1.000001"), exact: for invoices and CSV. */
export function formatMicros(micros: Micros): string {
  assertSafeInteger(micros, "amount");
  const negative = micros < 0;
  const magnitude = BigInt(Math.abs(micros));
  const whole = magnitude / microsPerUnitBig;
  const fraction = (magnitude % microsPerUnitBig).toString().padStart(6, "0");
  return `${negative ? "-" : ""}${whole.toString()}.${fraction}`;
}
