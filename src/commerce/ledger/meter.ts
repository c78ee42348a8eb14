import { chargeFor } from "../pricing/cost.js";
import type { PriceResolver } from "../pricing/price-resolver.js";
import type { Ledger } from "./ledger.js";
import type { UsageKind, UsageRecord, UsageStatus } from "./usage-record.js";

/** What the gateway knows at the end of a request. */
export interface MeterEvent {
  requestId: string;
  tenantId: string;
  keyId: string;
  endpoint: string;
  target?: string | null | undefined;
  model?: string | null | undefined;
  kind: UsageKind;
  status: UsageStatus;
  inputTokens: number;
  outputTokens: number;
  items: number;
  /** Epoch ms when the request completed (defaults to now): it picks the price and the invoice month. */
  time?: number | undefined;
}

export interface UsageMeter {
  /** Prices the event at the version in effect, records it in the ledger (`record()`), and returns the record. Synchronous. */
  meter(event: MeterEvent): UsageRecord;
  /** The same through `recordGrouped()`: resolves once the record is journaled (group commit). */
  meterGrouped(event: MeterEvent): Promise<UsageRecord>;
}

/**
 * Prices and records usage in one synchronous call for the request path: price lookup from the
 * resolver's in-memory snapshot, the charge computed exactly (pricing/cost.ts), then
 * `ledger.record()`. An endpoint without a price is recorded at 0 with `priceVersionId` null.
 */
export function createUsageMeter(options: {
  ledger: Ledger;
  prices: PriceResolver;
  now?: () => number;
  /** Currency of unpriced records (default USD). */
  currency?: string;
}): UsageMeter {
  const now = options.now ?? Date.now;
  const defaultCurrency = options.currency ?? "USD";
  function price(event: MeterEvent): UsageRecord {
    const time = new Date(event.time ?? now()).toISOString();
    const target = event.target ?? null;
    const price = options.prices.priceFor(event.tenantId, event.endpoint, time, target);
    const quantities = { inputTokens: event.inputTokens, outputTokens: event.outputTokens, items: event.items };
    const charge =
      price === undefined ? { inputCostMicros: 0, outputCostMicros: 0, costMicros: 0 } : chargeFor(price, quantities);
    const record: UsageRecord = {
      requestId: event.requestId,
      tenantId: event.tenantId,
      keyId: event.keyId,
      endpoint: event.endpoint,
      target,
      model: event.model ?? null,
      kind: event.kind,
      status: event.status,
      ...quantities,
      priceVersionId: price?.id ?? null,
      currency: price?.currency ?? defaultCurrency,
      costMicros: charge.costMicros,
      inputCostMicros: charge.inputCostMicros,
      outputCostMicros: charge.outputCostMicros,
      time,
    };
    return record;
  }

  return {
    meter(event) {
      const record = price(event);
      options.ledger.record(record);
      return record;
    },
    async meterGrouped(event) {
      const record = price(event);
      await options.ledger.recordGrouped(record);
      return record;
    },
  };
}
