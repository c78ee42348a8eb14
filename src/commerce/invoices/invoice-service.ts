import { sql } from "kysely";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { integerFromDatabase } from "../money/database-integer.js";
import { addMicros, formatMicros, multiplyMicros, sumMicros } from "../money/money.js";
import { applyPlan } from "../pricing/plan-math.js";
import type { PriceRepository } from "../pricing/price-repository.js";
import type { PriceVersion } from "../pricing/price-types.js";
import { type Invoice, type InvoiceLine, parsePeriod } from "./invoice-types.js";

export interface ReconcileResult {
  ok: boolean;
  tenantId: string;
  period: string;
  invoiceStatus: "draft" | "final";
  /** The ledger now: records and charges of the tenant in the period. */
  ledgerRecords: number;
  ledgerCostMicros: number;
  /** The same from the daily rollup (must agree with the records). */
  rollupCostMicros: number;
  invoiceUsageMicros: number;
  /** Sum of the invoice's usage lines (must equal its usage subtotal). */
  linesSumMicros: number;
  adjustmentsMicros: number;
  invoiceTotalMicros: number;
  /** invoice usage − ledger: 0 when they reconcile. */
  differenceMicros: number;
  problems: string[];
}

export interface InvoiceService {
  /** The stored final invoice, or a draft computed from the ledger now. */
  getInvoice(tenantId: string, period: string): Promise<Invoice>;
  /** A draft computed from the ledger now (ignores any stored final invoice). */
  buildDraft(tenantId: string, period: string): Promise<Invoice>;
  /**
   * Freezes the invoice: stored once per tenant and period; a second call (or a concurrent
   * one on another node) returns the stored invoice unchanged. Later ledger records or price
   * changes never alter it; `reconcile` reports if the ledger moved since.
   * Refuses a period that has not ended yet.
   */
  finalize(tenantId: string, period: string): Promise<Invoice>;
  /** Proves, to the micro, that the invoice's usage equals the ledger's charges for the period. */
  reconcile(tenantId: string, period: string): Promise<ReconcileResult>;
}

interface GroupRow {
  endpoint: string;
  model: string | null;
  price_version_id: string | null;
  currency: string;
  requests: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  items: unknown;
  input_cost_micros: unknown;
  output_cost_micros: unknown;
  cost_micros: unknown;
}

function compareText(a: string | null, b: string | null): number {
  const x = a ?? "";
  const y = b ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

export function createInvoiceService(options: {
  handle: DatabaseHandle;
  prices: PriceRepository;
  now?: () => number;
  /** Currency of an invoice with no usage (default USD). */
  currency?: string;
}): InvoiceService {
  const { db } = options.handle;
  const now = options.now ?? Date.now;

  async function tenantName(tenantId: string): Promise<string | null> {
    const row = await db.selectFrom("tenants").select("name").where("id", "=", tenantId).executeTakeFirst();
    return row?.name ?? null;
  }

  async function stored(tenantId: string, period: string): Promise<Invoice | undefined> {
    const row = await db
      .selectFrom("invoices")
      .select("document")
      .where("tenant_id", "=", tenantId)
      .where("period", "=", period)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.document) as Invoice);
  }

  function usageLines(group: GroupRow, price: PriceVersion | undefined): InvoiceLine[] {
    const requests = integerFromDatabase(group.requests, "requests");
    const inputTokens = integerFromDatabase(group.input_tokens, "input_tokens");
    const outputTokens = integerFromDatabase(group.output_tokens, "output_tokens");
    const items = integerFromDatabase(group.items, "items");
    const inputCost = integerFromDatabase(group.input_cost_micros, "input_cost_micros");
    const outputCost = integerFromDatabase(group.output_cost_micros, "output_cost_micros");
    const total = integerFromDatabase(group.cost_micros, "cost_micros");
    const requestCost = multiplyMicros(requests, price?.perRequestMicros ?? 0, "request charges");
    const itemCost = multiplyMicros(items, price?.perPredictItemMicros ?? 0, "item charges");
    const parts = sumMicros([inputCost, outputCost, requestCost, itemCost]);
    if (parts !== total) {
      // Every record's charge is the sum of these parts at its price version (pricing/cost.ts);
      // a mismatch means records were written with other prices than the version they name.
      throw new ModelportError(
        "MP_INTERNAL",
        `ledger records of ${group.endpoint} at price version ${group.price_version_id ?? "(none)"} charge ${formatMicros(total)} but their parts sum to ${formatMicros(parts)}`,
      );
    }
    const base = { endpoint: group.endpoint, model: group.model, priceVersionId: group.price_version_id };
    const label = `${group.endpoint}${group.model === null ? "" : ` (${group.model})`}`;
    const lines: InvoiceLine[] = [];
    if (inputTokens > 0 || inputCost > 0) {
      lines.push({
        ...base,
        dimension: "input_tokens",
        description: `${label}: input tokens`,
        quantity: inputTokens,
        unit: "tokens",
        unitPriceMicros: price?.inputPerMillionTokensMicros ?? 0,
        amountMicros: inputCost,
      });
    }
    if (outputTokens > 0 || outputCost > 0) {
      lines.push({
        ...base,
        dimension: "output_tokens",
        description: `${label}: output tokens`,
        quantity: outputTokens,
        unit: "tokens",
        unitPriceMicros: price?.outputPerMillionTokensMicros ?? 0,
        amountMicros: outputCost,
      });
    }
    lines.push({
      ...base,
      dimension: "requests",
      description: `${label}: requests`,
      quantity: requests,
      unit: "requests",
      unitPriceMicros: price?.perRequestMicros ?? 0,
      amountMicros: requestCost,
    });
    if (items > 0) {
      lines.push({
        ...base,
        dimension: "predict_items",
        description: `${label}: predict items`,
        quantity: items,
        unit: "items",
        unitPriceMicros: price?.perPredictItemMicros ?? 0,
        amountMicros: itemCost,
      });
    }
    return lines;
  }

  async function buildDraft(tenantId: string, periodText: string): Promise<Invoice> {
    const period = parsePeriod(periodText);
    const groups = (await db
      .selectFrom("usage_records")
      .select([
        "endpoint",
        "model",
        "price_version_id",
        "currency",
        sql<unknown>`count(*)`.as("requests"),
        sql<unknown>`sum(input_tokens)`.as("input_tokens"),
        sql<unknown>`sum(output_tokens)`.as("output_tokens"),
        sql<unknown>`sum(items)`.as("items"),
        sql<unknown>`sum(input_cost_micros)`.as("input_cost_micros"),
        sql<unknown>`sum(output_cost_micros)`.as("output_cost_micros"),
        sql<unknown>`sum(cost_micros)`.as("cost_micros"),
      ])
      .where("tenant_id", "=", tenantId)
      .where("time", ">=", period.start)
      .where("time", "<", period.end)
      .groupBy(["endpoint", "model", "price_version_id", "currency"])
      .execute()) as GroupRow[];

    const currencies = new Set(groups.map((group) => group.currency));
    if (currencies.size > 1) {
      throw new ModelportError(
        "MP_CONFLICT",
        `tenant ${tenantId} has usage in several currencies in ${periodText} (${[...currencies].join(", ")}); one invoice holds one currency`,
      );
    }
    const currency = groups[0]?.currency ?? options.currency ?? "USD";

    const versions = new Map<string, PriceVersion | undefined>();
    for (const group of groups) {
      const id = group.price_version_id;
      if (id !== null && !versions.has(id)) versions.set(id, await options.prices.getPriceVersion(id));
    }
    const sorted = [...groups].sort(
      (a, b) =>
        compareText(a.endpoint, b.endpoint) ||
        compareText(a.model, b.model) ||
        compareText(
          versions.get(a.price_version_id ?? "")?.effectiveFrom ?? null,
          versions.get(b.price_version_id ?? "")?.effectiveFrom ?? null,
        ) ||
        compareText(a.price_version_id, b.price_version_id),
    );
    const lines: InvoiceLine[] = [];
    let ledgerRecords = 0;
    for (const group of sorted) {
      const versionId = group.price_version_id;
      const price = versionId === null ? undefined : versions.get(versionId);
      if (versionId !== null && price === undefined) {
        throw new ModelportError("MP_INTERNAL", `price version ${versionId} named by ledger records does not exist`);
      }
      lines.push(...usageLines(group, price));
      ledgerRecords += integerFromDatabase(group.requests, "requests");
    }
    const usageSubtotalMicros = sumMicros(lines.map((line) => line.amountMicros));

    const plan = await options.prices.planFor(tenantId, period.start);
    const applied = applyPlan(usageSubtotalMicros, plan);
    const adjustments: InvoiceLine[] = [];
    if (plan !== undefined && applied.includedCreditMicros !== 0) {
      adjustments.push({
        endpoint: null,
        model: null,
        priceVersionId: null,
        dimension: "included_usage",
        description: `${plan.name}: included usage (up to ${formatMicros(plan.includedMicros)} ${currency})`,
        quantity: 1,
        unit: "invoice",
        unitPriceMicros: applied.includedCreditMicros,
        amountMicros: applied.includedCreditMicros,
      });
    }
    if (plan !== undefined && applied.adjustmentMicros !== 0) {
      const discount = plan.adjustmentBps < 0;
      adjustments.push({
        endpoint: null,
        model: null,
        priceVersionId: null,
        dimension: discount ? "discount" : "markup",
        description: `${plan.name}: ${discount ? "discount" : "markup"} ${(Math.abs(plan.adjustmentBps) / 100).toFixed(2)}%`,
        quantity: 1,
        unit: "invoice",
        unitPriceMicros: applied.adjustmentMicros,
        amountMicros: applied.adjustmentMicros,
      });
    }
    const totalMicros = sumMicros([usageSubtotalMicros, ...adjustments.map((line) => line.amountMicros)]);
    if (totalMicros !== applied.totalMicros) {
      throw new ModelportError("MP_INTERNAL", "invoice plan lines do not add up to the plan total");
    }

    return {
      id: null,
      status: "draft",
      tenantId,
      tenantName: await tenantName(tenantId),
      period: period.period,
      periodStart: period.start,
      periodEnd: period.end,
      currency,
      lines,
      usageSubtotalMicros,
      plan:
        plan === undefined
          ? null
          : { id: plan.id, name: plan.name, includedMicros: plan.includedMicros, adjustmentBps: plan.adjustmentBps },
      adjustments,
      totalMicros,
      ledgerRecords,
      generatedAt: new Date(now()).toISOString(),
      finalizedAt: null,
    };
  }

  async function getInvoice(tenantId: string, period: string): Promise<Invoice> {
    parsePeriod(period);
    return (await stored(tenantId, period)) ?? buildDraft(tenantId, period);
  }

  return {
    getInvoice,
    buildDraft,

    async finalize(tenantId, periodText) {
      const period = parsePeriod(periodText);
      const existing = await stored(tenantId, periodText);
      if (existing !== undefined) return existing;
      if (Date.parse(period.end) > now()) {
        throw new ModelportError(
          "MP_INVALID_REQUEST",
          `period ${periodText} has not ended (it ends ${period.end}); usage may still be recorded`,
          { param: "period" },
        );
      }
      const draft = await buildDraft(tenantId, periodText);
      const finalizedAt = new Date(now()).toISOString();
      const invoice: Invoice = { ...draft, id: randomId("inv"), status: "final", finalizedAt };
      // Insert-if-absent, then read back: if another node finalized first, its invoice wins.
      await db
        .insertInto("invoices")
        .values({
          id: invoice.id as string,
          tenant_id: tenantId,
          period: periodText,
          currency: invoice.currency,
          total_micros: invoice.totalMicros,
          document: JSON.stringify(invoice),
          finalized_at: finalizedAt,
        })
        .onConflict((conflict) => conflict.columns(["tenant_id", "period"]).doNothing())
        .execute();
      const saved = await stored(tenantId, periodText);
      if (saved === undefined) throw new ModelportError("MP_STORAGE_ERROR", "the finalized invoice was not stored");
      return saved;
    },

    async reconcile(tenantId, periodText) {
      const period = parsePeriod(periodText);
      const invoice = await getInvoice(tenantId, periodText);
      const ledger = await db
        .selectFrom("usage_records")
        .select([sql<unknown>`count(*)`.as("records"), sql<unknown>`sum(cost_micros)`.as("cost")])
        .where("tenant_id", "=", tenantId)
        .where("time", ">=", period.start)
        .where("time", "<", period.end)
        .executeTakeFirstOrThrow();
      const rollup = await db
        .selectFrom("usage_daily")
        .select(sql<unknown>`sum(cost_micros)`.as("cost"))
        .where("tenant_id", "=", tenantId)
        .where("day", ">=", period.start.slice(0, 10))
        .where("day", "<", period.end.slice(0, 10))
        .executeTakeFirstOrThrow();
      const ledgerRecords = integerFromDatabase(ledger.records, "records");
      const ledgerCostMicros = integerFromDatabase(ledger.cost, "cost");
      const rollupCostMicros = integerFromDatabase(rollup.cost, "cost");
      const linesSumMicros = sumMicros(invoice.lines.map((line) => line.amountMicros));
      const adjustmentsMicros = sumMicros(invoice.adjustments.map((line) => line.amountMicros));
      const problems: string[] = [];
      if (invoice.usageSubtotalMicros !== ledgerCostMicros) {
        problems.push(
          `invoice usage ${formatMicros(invoice.usageSubtotalMicros)} ≠ ledger ${formatMicros(ledgerCostMicros)}`,
        );
      }
      if (invoice.ledgerRecords !== ledgerRecords) {
        problems.push(`invoice covers ${invoice.ledgerRecords} records, the ledger now holds ${ledgerRecords}`);
      }
      if (linesSumMicros !== invoice.usageSubtotalMicros) problems.push("invoice lines do not sum to its subtotal");
      if (addMicros(invoice.usageSubtotalMicros, adjustmentsMicros) !== invoice.totalMicros) {
        problems.push("invoice subtotal plus plan lines ≠ total");
      }
      if (rollupCostMicros !== ledgerCostMicros) {
        problems.push(
          `daily rollup ${formatMicros(rollupCostMicros)} ≠ ledger records ${formatMicros(ledgerCostMicros)}`,
        );
      }
      return {
        ok: problems.length === 0,
        tenantId,
        period: periodText,
        invoiceStatus: invoice.status,
        ledgerRecords,
        ledgerCostMicros,
        rollupCostMicros,
        invoiceUsageMicros: invoice.usageSubtotalMicros,
        linesSumMicros,
        adjustmentsMicros,
        invoiceTotalMicros: invoice.totalMicros,
        differenceMicros: invoice.usageSubtotalMicros - ledgerCostMicros,
        problems,
      };
    },
  };
}
