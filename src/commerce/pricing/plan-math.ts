import { ModelportError } from "../../core/errors.js";
import { basisPointsOf, type Micros } from "../money/money.js";

export interface PlanTerms {
  includedMicros: Micros;
  adjustmentBps: number;
}

export interface PlanApplication {
  /** ≤ 0: the part of the usage the plan includes. */
  includedCreditMicros: Micros;
  /** Discount (< 0) or markup (> 0) on the usage left after the credit. */
  adjustmentMicros: Micros;
  totalMicros: Micros;
}

export const minAdjustmentBps = -10_000;
export const maxAdjustmentBps = 100_000;

export function validatePlanTerms(terms: PlanTerms, field = "plan"): PlanTerms {
  if (!Number.isSafeInteger(terms.includedMicros) || terms.includedMicros < 0) {
    throw new ModelportError("MP_INVALID_REQUEST", `${field}.includedMicros must be a non-negative integer`, {
      param: `${field}.includedMicros`,
    });
  }
  if (
    !Number.isSafeInteger(terms.adjustmentBps) ||
    terms.adjustmentBps < minAdjustmentBps ||
    terms.adjustmentBps > maxAdjustmentBps
  ) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `${field}.adjustmentBps must be an integer from ${minAdjustmentBps} (100% discount) to ${maxAdjustmentBps} (10× markup)`,
      { param: `${field}.adjustmentBps` },
    );
  }
  return terms;
}

/**
 * A month's usage subtotal under a plan: first the included amount is credited (never more
 * than the usage), then the adjustment applies to the rest, its magnitude rounded half up to the
 * micro. Total = subtotal + credit + adjustment, never negative (a 100% discount gives 0).
 */
export function applyPlan(subtotalMicros: Micros, terms: PlanTerms | undefined): PlanApplication {
  if (terms === undefined) return { includedCreditMicros: 0, adjustmentMicros: 0, totalMicros: subtotalMicros };
  validatePlanTerms(terms);
  const credit = Math.min(subtotalMicros, terms.includedMicros);
  const remaining = subtotalMicros - credit;
  const adjustmentMicros = basisPointsOf(remaining, terms.adjustmentBps, "plan adjustment");
  return {
    includedCreditMicros: credit === 0 ? 0 : -credit,
    adjustmentMicros,
    totalMicros: remaining + adjustmentMicros,
  };
}
