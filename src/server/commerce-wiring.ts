import { type BudgetScope, createBudgetGuard } from "../commerce/budgets/budget-guard.js";
import {
  chatUsageCounts,
  createTokenCounter,
  embeddingsUsageCounts,
  predictUsageCounts,
  type UsageCounts,
} from "../commerce/counting/index.js";
import { createInvoiceService } from "../commerce/invoices/index.js";
import { createLedger, createUsageMeter, createUsageQueries, journalPathFor } from "../commerce/ledger/index.js";
import { chargeFor, createPriceRepository, createPriceResolver, syncConfigPrices } from "../commerce/pricing/index.js";
import type { ModelportConfig } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import type { BudgetPort, MeteredUsage, MeteringPort } from "../core/metering.js";
import type { AlertDispatcher } from "../monitoring/alerts/dispatcher.js";
import type { DatabaseHandle } from "../storage/database.js";
import type { Logger } from "./logger.js";

/**
 * Billing for a running server: prices from the config (versioned), the durable usage ledger
 * (local journal, batched writes, recovered at start), token counting, metering and monthly
 * budgets with threshold alerts.
 */
export async function startCommerce(options: {
  handle: DatabaseHandle;
  config: Readonly<ModelportConfig>;
  dataDir: string;
  clock: Clock;
  logger: Logger;
  alerts: Pick<AlertDispatcher, "fire">;
}) {
  const { handle, config, clock, logger } = options;
  const logError = (message: string) => (error: unknown) =>
    logger.error({ err: { message: (error as Error).message } }, message);

  const priceRepository = createPriceRepository(handle);
  await syncConfigPrices({ repository: priceRepository, endpoints: config.endpoints, now: clock.now() });
  const prices = createPriceResolver({ repository: priceRepository, onError: logError("price refresh failed") });
  await prices.load();
  const counter = createTokenCounter();
  await counter.load();
  const ledger = createLedger({
    handle,
    journalPath: journalPathFor(options.dataDir),
    batchSize: 1_000,
    flushIntervalMs: 200,
    // SQLite: batches through cached prepared statements on the handle's own connection (about
    // twice the multi-row INSERT's throughput, BENCHMARKS.md); undefined on PostgreSQL.
    sqliteConnection: handle.sqliteConnection,
    onError: logError("usage ledger write failed; records stay in the journal"),
  });
  const recovered = await ledger.recover();
  if (recovered) logger.info({ recovered }, "usage ledger recovered journaled records");
  const meter = createUsageMeter({ ledger, prices, now: () => clock.now() });
  const queries = createUsageQueries(handle);

  async function record(
    context: Parameters<MeteringPort["recordChat"]>[0],
    kind: "chat" | "embeddings" | "predict",
    counts: UsageCounts,
  ): Promise<MeteredUsage> {
    const usage = await meter.meterGrouped({
      requestId: context.requestId,
      tenantId: context.tenantId,
      keyId: context.keyId,
      endpoint: context.endpoint,
      target: context.target,
      kind,
      status: context.status,
      inputTokens: counts.inputTokens,
      outputTokens: counts.outputTokens,
      items: counts.items,
    });
    return {
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      items: usage.items,
      costMicros: usage.costMicros,
    };
  }

  const metering: MeteringPort = {
    recordChat: (context, usage) =>
      record(
        context,
        "chat",
        chatUsageCounts({
          reported: usage.reported,
          messages: usage.messages,
          completionText: usage.completionText,
          counter,
        }),
      ),
    recordEmbeddings: (context, usage) =>
      record(
        context,
        "embeddings",
        embeddingsUsageCounts({ reported: usage.reported, request: usage.request, counter }),
      ),
    recordPredict: (context, request) => record(context, "predict", predictUsageCounts(request)),
    estimateMicros(party, endpoint, quantities) {
      const price = prices.priceFor(party.tenantId, endpoint, clock.now());
      return price === undefined ? 0 : chargeFor(price, quantities).costMicros;
    },
  };

  const guard = createBudgetGuard({
    clock,
    flushLedger: () => ledger.flush(),
    spentSince: async (scope, monthStart) => {
      // Up to the end of the month: whole days only, so the report reads the daily rollups (kept
      // with every ledger batch, today's included) and never scans today's records.
      const start = new Date(monthStart);
      const monthEnd = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)).toISOString();
      const report = await queries.usage({
        tenantId: scope.tenantId,
        ...(scope.keyId ? { keyId: scope.keyId } : {}),
        from: monthStart,
        to: monthEnd,
      });
      return report.totals.costMicros;
    },
    onRefreshError: logError("budget refresh failed; using the last figures"),
    onThreshold: (event) => {
      const who = event.scope.keyId ? `API key ${event.scope.keyId}` : "tenant";
      options.alerts
        .fire({
          tenantId: event.scope.tenantId,
          kind: event.level === "hard" ? "budget-exhausted" : "budget-threshold-reached",
          dedupKey: `budget:${event.scope.key}:${event.month}:${event.level}`,
          severity: event.level === "hard" ? "critical" : "warning",
          summary:
            event.level === "hard"
              ? `the ${who}'s monthly budget is spent; requests are refused`
              : `the ${who} has spent 80% of its monthly budget`,
          details: { month: event.month, spentMicros: event.spentMicros, budgetMicros: event.scope.budgetMicros },
        })
        .catch(logError("budget alert failed"));
    },
  });

  const budgets: BudgetPort = {
    async reserve(party, estimateMicros) {
      const scopes: BudgetScope[] = [];
      if (party.keyBudgetMicros !== null)
        scopes.push({
          key: `key:${party.keyId}`,
          tenantId: party.tenantId,
          keyId: party.keyId,
          budgetMicros: party.keyBudgetMicros,
        });
      if (party.tenantBudgetMicros !== null)
        scopes.push({
          key: `tenant:${party.tenantId}`,
          tenantId: party.tenantId,
          budgetMicros: party.tenantBudgetMicros,
        });
      if (scopes.length === 0) return undefined;
      return guard.reserve(scopes, estimateMicros);
    },
  };

  return {
    metering,
    budgets,
    queries,
    ledger,
    /** For `commerceAdminRoutes` (gateway/admin/routes-commerce.ts), with `tenants` and `recordExport`. */
    admin: {
      prices: priceRepository,
      usage: queries,
      invoices: createInvoiceService({ handle, prices: priceRepository, now: () => clock.now() }),
      flushLedger: () => ledger.flush(),
      now: () => clock.now(),
    },
    async stop() {
      await ledger.close();
      prices.close();
    },
  };
}
