import type { TenantPlan } from "./price-types.js";

/**
 * The first invoice month a plan changes. Invoices take the plan in effect at the start of the
 * month, so a plan effective mid-month applies from the next month on.
 */
export function firstInvoicePeriod(effectiveFrom: string): string {
  const at = new Date(effectiveFrom);
  const monthStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const first = at.getTime() === monthStart ? at : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return first.toISOString().slice(0, 7);
}

/** A plan as the admin API and the CLI show it. */
export function viewPlan(plan: TenantPlan) {
  return { ...plan, firstInvoicePeriod: firstInvoicePeriod(plan.effectiveFrom) };
}

export type TenantPlanView = ReturnType<typeof viewPlan>;
