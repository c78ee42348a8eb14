import { ModelportError } from "../../core/errors.js";
import { parseDecimalMicros } from "../money/money.js";
import { maxAdjustmentBps, minAdjustmentBps } from "./plan-math.js";
import type { NewTenantPlan } from "./price-repository.js";

/**
 * A plan as people write it (admin API body, CLI flags): the included amount in USD or micros,
 * and the adjustment as a discount or markup percentage or in basis points. Every field is
 * `unknown` because it arrives from JSON or a command line; parsePlanInput checks it.
 */
export interface PlanInput {
  name?: unknown;
  /** ISO-8601 with a UTC offset (or a bare date, read as UTC midnight); default: now. */
  effectiveFrom?: unknown;
  includedUsd?: unknown;
  includedMicros?: unknown;
  discountPercent?: unknown;
  markupPercent?: unknown;
  adjustmentBps?: unknown;
}

function invalid(field: string, message: string): never {
  throw new ModelportError("MP_INVALID_REQUEST", `${field}: ${message}`, { param: field });
}

/** The fields of `input` (among `fields`) that are present; more than one is ambiguous. */
function oneOf(input: PlanInput, fields: readonly (keyof PlanInput)[]): keyof PlanInput | undefined {
  const given = fields.filter((field) => input[field] !== undefined && input[field] !== null);
  if (given.length > 1)
    invalid(
      given[1] as string,
      `give only one of ${fields.join(", ")} (got ${given.join(" and ")}), the plan is ambiguous`,
    );
  return given[0];
}

function safeInteger(value: unknown, field: string): number {
  const number = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number") invalid(field, `must be an integer, got ${value === null ? "null" : typeof value}`);
  if (!Number.isFinite(number)) invalid(field, `must be finite, got ${String(number)}`);
  if (!Number.isSafeInteger(number)) invalid(field, `must be an integer, got ${String(number)}`);
  return number;
}

/** A percentage with at most two decimals (a basis point), from 0 up to `max`, as basis points. */
function percentAsBps(value: unknown, field: string, max: number): number {
  if (typeof value === "string" && value.trim().endsWith("%")) value = value.trim().slice(0, -1);
  // parseDecimalMicros rejects negative, NaN, infinite and malformed values, naming the field.
  const micros = parseDecimalMicros(value, { field });
  if (micros % 10_000 !== 0)
    invalid(field, `has more than 2 decimal places ("${String(value)}"); the smallest step is 0.01% (one basis point)`);
  const bps = micros / 10_000;
  if (bps > max * 100) invalid(field, `must be at most ${max}, got ${String(value)}`);
  return bps;
}

const isoTimePattern = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/** ISO-8601 in UTC form. A time without an offset would be read in the server's zone: refused as ambiguous. */
export function parsePlanTime(value: unknown, field: string): string {
  if (typeof value !== "string") invalid(field, "must be an ISO-8601 time such as 2026-12-01T00:00:00Z");
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text))
    invalid(field, `"${value}" has no UTC offset, so its instant is ambiguous; add Z or +HH:MM`);
  const parsed = Date.parse(text);
  if (!isoTimePattern.test(text) || Number.isNaN(parsed))
    invalid(field, `"${value}" is not an ISO-8601 time such as 2026-12-01T00:00:00Z`);
  return new Date(parsed).toISOString();
}

/**
 * Turns a PlanInput into the repository's NewTenantPlan, with MP_INVALID_REQUEST naming the field
 * for anything negative, not finite, malformed, out of range or ambiguous (two ways of giving
 * the same term, a fraction of a micro or of a basis point, a time without an offset).
 */
export function parsePlanInput(tenantId: string, input: PlanInput, now: number): NewTenantPlan {
  if (typeof input.name !== "string" || input.name.trim() === "")
    invalid("name", 'a plan needs a non-empty name (e.g. "pro")');
  if (input.name.length > 128) invalid("name", "must be at most 128 characters");

  let includedMicros = 0;
  const included = oneOf(input, ["includedUsd", "includedMicros"]);
  if (included === "includedUsd") includedMicros = parseDecimalMicros(input.includedUsd, { field: "includedUsd" });
  if (included === "includedMicros") {
    includedMicros = safeInteger(input.includedMicros, "includedMicros");
    if (includedMicros < 0) invalid("includedMicros", `must not be negative, got ${includedMicros}`);
  }

  let adjustmentBps = 0;
  const adjustment = oneOf(input, ["discountPercent", "markupPercent", "adjustmentBps"]);
  if (adjustment === "discountPercent")
    adjustmentBps = -percentAsBps(input.discountPercent, "discountPercent", -minAdjustmentBps / 100);
  if (adjustment === "markupPercent")
    adjustmentBps = percentAsBps(input.markupPercent, "markupPercent", maxAdjustmentBps / 100);
  if (adjustment === "adjustmentBps") {
    adjustmentBps = safeInteger(input.adjustmentBps, "adjustmentBps");
    if (adjustmentBps < minAdjustmentBps || adjustmentBps > maxAdjustmentBps)
      invalid(
        "adjustmentBps",
        `must be from ${minAdjustmentBps} (100% discount) to ${maxAdjustmentBps} (1000% markup), got ${adjustmentBps}`,
      );
  }
  // −0 (a 0% discount) would serialize as 0 anyway; keep the stored value a plain 0.
  if (adjustmentBps === 0) adjustmentBps = 0;

  const effectiveFrom =
    input.effectiveFrom === undefined || input.effectiveFrom === null
      ? new Date(now).toISOString()
      : parsePlanTime(input.effectiveFrom, "effectiveFrom");
  return { tenantId, name: input.name.trim(), includedMicros, adjustmentBps, effectiveFrom };
}
