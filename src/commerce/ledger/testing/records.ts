import type { UsageRecord } from "../usage-record.js";

/** Test records: distinct request ids, realistic fields, overridable. For tests and benchmarks. */
export function makeUsageRecord(index: number, overrides: Partial<UsageRecord> = {}): UsageRecord {
  const inputTokens = 10 + (index % 97);
  const outputTokens = index % 13;
  const inputCostMicros = Math.floor((inputTokens * 150_000 + 500_000) / 1_000_000);
  const outputCostMicros = Math.floor((outputTokens * 600_000 + 500_000) / 1_000_000);
  return {
    requestId: `req_test_${index.toString().padStart(9, "0")}`,
    tenantId: "ten_a",
    keyId: "key_a",
    endpoint: "chat-small",
    target: "mock/gpt-4o-mini",
    model: "gpt-4o-mini",
    kind: "chat",
    status: "ok",
    inputTokens,
    outputTokens,
    items: 0,
    priceVersionId: null,
    currency: "USD",
    costMicros: inputCostMicros + outputCostMicros,
    inputCostMicros,
    outputCostMicros,
    time: new Date(Date.UTC(2025, 0, 15, 12, 0, 0) + index).toISOString(),
    ...overrides,
  };
}
