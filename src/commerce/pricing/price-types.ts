import type { Micros } from "../money/money.js";

/** A price in integer micros. Token prices are per million tokens; the others are per unit. */
export interface PriceSchedule {
  inputPerMillionTokensMicros: Micros;
  outputPerMillionTokensMicros: Micros;
  perRequestMicros: Micros;
  perPredictItemMicros: Micros;
}

/** Where a price version came from: the config file (synced at start-up) or the admin API. */
export type PriceSource = "config" | "admin";

/**
 * One immutable version of an endpoint's price. A change adds a version with a later
 * `effectiveFrom`; ledger records keep the id of the version they were charged at, so past
 * charges never change.
 */
export interface PriceVersion extends PriceSchedule {
  id: string;
  endpoint: string;
  /** Only this target's calls (`provider` or `provider/model` id); null for every target. */
  target: string | null;
  /** Only this tenant (a negotiated price); null for every tenant. */
  tenantId: string | null;
  currency: string;
  /** ISO-8601 UTC. */
  effectiveFrom: string;
  source: PriceSource;
  createdAt: string;
}

/**
 * A tenant's plan, versioned like prices. Applied per invoice (calendar month, UTC): the
 * included amount is credited first, then the adjustment (negative basis points: a discount,
 * positive: a markup) applies to what remains.
 */
export interface TenantPlan {
  id: string;
  tenantId: string;
  name: string;
  /** Usage up to this amount per month is free. */
  includedMicros: Micros;
  /** −10_000 … 100_000: −1_000 is a 10% discount, 2_500 a 25% markup. */
  adjustmentBps: number;
  effectiveFrom: string;
  createdAt: string;
}

export const zeroSchedule: PriceSchedule = Object.freeze({
  inputPerMillionTokensMicros: 0,
  outputPerMillionTokensMicros: 0,
  perRequestMicros: 0,
  perPredictItemMicros: 0,
});

export function sameSchedule(a: PriceSchedule, b: PriceSchedule): boolean {
  return (
    a.inputPerMillionTokensMicros === b.inputPerMillionTokensMicros &&
    a.outputPerMillionTokensMicros === b.outputPerMillionTokensMicros &&
    a.perRequestMicros === b.perRequestMicros &&
    a.perPredictItemMicros === b.perPredictItemMicros
  );
}
