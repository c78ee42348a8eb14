import type { UsageLimits } from "../../core/storage.js";
import type { LimitColumns } from "../schema.js";

function toNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/** Limit columns → record (PostgreSQL returns bigint as a string). */
export function limitsFromRow(row: LimitColumns): UsageLimits {
  return {
    requestsPerMinute: toNumber(row.requests_per_minute),
    tokensPerMinute: toNumber(row.tokens_per_minute),
    concurrency: toNumber(row.concurrency),
    monthlyBudgetMicros: toNumber(row.monthly_budget_micros),
  };
}

export function limitsToRow(limits: UsageLimits): LimitColumns {
  return {
    requests_per_minute: limits.requestsPerMinute,
    tokens_per_minute: limits.tokensPerMinute,
    concurrency: limits.concurrency,
    monthly_budget_micros: limits.monthlyBudgetMicros,
  };
}
