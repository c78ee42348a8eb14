import { ModelportError } from "../../core/errors.js";

export type InvoiceDimension =
  | "input_tokens"
  | "output_tokens"
  | "requests"
  | "predict_items"
  | "included_usage"
  | "discount"
  | "markup";

/** One line: quantity × unit price = amount (for tokens the unit price is per million tokens). */
export interface InvoiceLine {
  endpoint: string | null;
  model: string | null;
  priceVersionId: string | null;
  dimension: InvoiceDimension;
  description: string;
  quantity: number;
  /** `tokens`, `requests`, `items`, or `invoice` for plan lines. */
  unit: string;
  /** Micros per unit, or per million tokens for token lines. */
  unitPriceMicros: number;
  /**
   * For usage lines: the sum of what the line's ledger records were charged (each record's token
   * charge rounded half up to the micro), so it can differ from quantity × unit price by less
   * than half a micro per request. Negative for credits and discounts.
   */
  amountMicros: number;
}

export interface InvoicePlanSummary {
  id: string;
  name: string;
  includedMicros: number;
  adjustmentBps: number;
}

export interface Invoice {
  /** Null while a draft. */
  id: string | null;
  status: "draft" | "final";
  tenantId: string;
  tenantName: string | null;
  /** `YYYY-MM`, a UTC calendar month. */
  period: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  /** Usage lines, by endpoint, model and price version. */
  lines: InvoiceLine[];
  /** Sum of the usage lines = the ledger's charges for the tenant and period. */
  usageSubtotalMicros: number;
  plan: InvoicePlanSummary | null;
  /** Plan lines: the included-usage credit, then the discount or markup. */
  adjustments: InvoiceLine[];
  totalMicros: number;
  /** What the invoice was built from: the ledger at generation time. */
  ledgerRecords: number;
  generatedAt: string;
  finalizedAt: string | null;
}

export interface InvoicePeriod {
  period: string;
  start: string;
  end: string;
}

const periodPattern = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** `YYYY-MM` → its UTC bounds [start, end). */
export function parsePeriod(period: string): InvoicePeriod {
  const match = periodPattern.exec(period);
  if (match === null) {
    throw new ModelportError("MP_INVALID_REQUEST", `period must be YYYY-MM (e.g. 2025-01), got "${period}"`, {
      param: "period",
    });
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  return {
    period,
    start: new Date(Date.UTC(year, month - 1, 1)).toISOString(),
    end: new Date(Date.UTC(year, month, 1)).toISOString(),
  };
}
