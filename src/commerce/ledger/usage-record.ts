import { ModelportError } from "../../core/errors.js";

export type UsageKind = "chat" | "embeddings" | "predict";

/**
 * `ok`: the response completed. `partial`: a stream ended early (client disconnect or an upstream
 * error after the first chunk); what was delivered is billed. `error`: recorded for visibility
 * with whatever the caller decides to charge (the gateway records failed requests only when they
 * consumed billable work).
 */
export type UsageStatus = "ok" | "partial" | "error";

/** One billable request: the unit of the ledger, written exactly once per `requestId`. */
export interface UsageRecord {
  /** The response's `x-request-id`; the ledger's idempotency key. */
  requestId: string;
  tenantId: string;
  keyId: string;
  endpoint: string;
  /** The target that answered (`provider` or `provider/model`). */
  target: string | null;
  /** The runtime-side model name. */
  model: string | null;
  kind: UsageKind;
  status: UsageStatus;
  inputTokens: number;
  outputTokens: number;
  /** Predict items (batch dimension); 0 otherwise. */
  items: number;
  /** The price version charged; null when the endpoint has no price (free). */
  priceVersionId: string | null;
  currency: string;
  /** Total charge in micros: input + output + per-request + per-item parts. */
  costMicros: number;
  /** The rounded token parts of `costMicros` (see pricing/cost.ts), kept so invoices reconcile exactly. */
  inputCostMicros: number;
  outputCostMicros: number;
  /** ISO-8601 UTC with milliseconds (`Date.toISOString()`): when the request completed. */
  time: string;
}

const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const kinds = new Set<string>(["chat", "embeddings", "predict"]);
const statuses = new Set<string>(["ok", "partial", "error"]);

function invalid(field: string, message: string): never {
  throw new ModelportError("MP_INTERNAL", `usage record: ${field} ${message}`);
}

function nonEmpty(value: unknown, field: string): void {
  if (typeof value !== "string" || value === "") invalid(field, "must be a non-empty string");
}

function count(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    invalid(field, `must be a non-negative safe integer, got ${String(value)}`);
  }
}

/**
 * Checks a record before it enters the journal, so a malformed record fails on the request path
 * (a bug) instead of poisoning a batch later. Cheap: no allocation beyond the regex test.
 */
export function validateUsageRecord(record: UsageRecord): UsageRecord {
  nonEmpty(record.requestId, "requestId");
  nonEmpty(record.tenantId, "tenantId");
  nonEmpty(record.keyId, "keyId");
  nonEmpty(record.endpoint, "endpoint");
  nonEmpty(record.currency, "currency");
  if (record.target !== null && typeof record.target !== "string") invalid("target", "must be a string or null");
  if (record.model !== null && typeof record.model !== "string") invalid("model", "must be a string or null");
  if (record.priceVersionId !== null && typeof record.priceVersionId !== "string") {
    invalid("priceVersionId", "must be a string or null");
  }
  if (!kinds.has(record.kind)) invalid("kind", `must be chat, embeddings or predict, got ${String(record.kind)}`);
  if (!statuses.has(record.status)) invalid("status", `must be ok, partial or error, got ${String(record.status)}`);
  count(record.inputTokens, "inputTokens");
  count(record.outputTokens, "outputTokens");
  count(record.items, "items");
  count(record.costMicros, "costMicros");
  count(record.inputCostMicros, "inputCostMicros");
  count(record.outputCostMicros, "outputCostMicros");
  if (record.inputCostMicros + record.outputCostMicros > record.costMicros) {
    invalid("costMicros", "is less than its input and output parts");
  }
  if (typeof record.time !== "string" || !isoTime.test(record.time)) {
    invalid("time", `must be Date.toISOString() form, got ${String(record.time)}`);
  }
  return record;
}

/** The record's UTC day, `YYYY-MM-DD`: its rollup row. */
export function dayOf(time: string): string {
  return time.slice(0, 10);
}

// The journal stores a record as a JSON array in this order: compact, and parsing needs no key lookups.
export function recordToTuple(record: UsageRecord): unknown[] {
  return [
    record.requestId,
    record.tenantId,
    record.keyId,
    record.endpoint,
    record.target,
    record.model,
    record.kind,
    record.status,
    record.inputTokens,
    record.outputTokens,
    record.items,
    record.priceVersionId,
    record.currency,
    record.costMicros,
    record.inputCostMicros,
    record.outputCostMicros,
    record.time,
  ];
}

export function recordFromTuple(tuple: unknown[]): UsageRecord {
  return validateUsageRecord({
    requestId: tuple[0] as string,
    tenantId: tuple[1] as string,
    keyId: tuple[2] as string,
    endpoint: tuple[3] as string,
    target: tuple[4] as string | null,
    model: tuple[5] as string | null,
    kind: tuple[6] as UsageKind,
    status: tuple[7] as UsageStatus,
    inputTokens: tuple[8] as number,
    outputTokens: tuple[9] as number,
    items: tuple[10] as number,
    priceVersionId: tuple[11] as string | null,
    currency: tuple[12] as string,
    costMicros: tuple[13] as number,
    inputCostMicros: tuple[14] as number,
    outputCostMicros: tuple[15] as number,
    time: tuple[16] as string,
  });
}
