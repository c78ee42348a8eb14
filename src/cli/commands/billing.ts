import type { Command } from "commander";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { printJson, printTable, UsageError } from "../output.js";
import { withTenantContext } from "../storage-context.js";

interface StorageOptions {
  json?: boolean;
  config?: string;
  dataDir?: string;
}

function isoOption(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new UsageError(`${name} must be an ISO-8601 time, got '${value}'`);
  return new Date(parsed).toISOString();
}

/** A `data-exported` audit entry for `usage --records` (actor `cli`: the local command line). */
async function recordCliExport(context: {
  handle: DatabaseHandle;
  masterKey: Buffer;
  dataDir: string;
  tenantId: string;
  from: string;
  to: string;
  records: number;
}): Promise<void> {
  const { createAuditLog } = await import("../../privacy/audit/audit-log.js");
  const { systemClock } = await import("../../core/clock.js");
  const audit = createAuditLog({
    database: context.handle,
    masterKey: context.masterKey,
    dataDir: context.dataDir,
    clock: systemClock,
  });
  await audit.record({
    action: "data-exported",
    actor: "cli",
    tenantId: context.tenantId,
    target: "usage-records",
    details: { source: "cli", from: context.from, to: context.to, records: context.records },
  });
}

export function registerBilling(program: Command): void {
  program
    .command("usage")
    .description("A tenant's usage and cost from the ledger (default: this month so far)")
    .requiredOption("--tenant <name>", "tenant name or id")
    .option("--from <iso>", "start (inclusive), ISO-8601")
    .option("--to <iso>", "end (exclusive), ISO-8601")
    .option("--records", "also list every usage record")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: StorageOptions & { tenant: string; from?: string; to?: string; records?: boolean }) => {
      const now = new Date();
      const from = isoOption(flags.from, "--from") ?? `${now.toISOString().slice(0, 7)}-01T00:00:00.000Z`;
      const to = isoOption(flags.to, "--to") ?? new Date(now.getTime() + 1).toISOString();
      const { createUsageQueries } = await import("../../commerce/ledger/index.js");
      const result = await withTenantContext(flags, async ({ tenantId, handle, masterKey, dataDir }) => {
        const queries = createUsageQueries(handle);
        const report = await queries.usage({ tenantId, from, to });
        const records = [];
        if (flags.records) {
          let cursor: string | undefined;
          do {
            const page = await queries.exportRecords({
              tenantId,
              from,
              to,
              limit: 1_000,
              ...(cursor ? { cursor } : {}),
            });
            records.push(...page.records);
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          // Raw records leave the database here: on the audit trail like the admin API's export,
          // and before anything is printed (no export without its audit entry).
          await recordCliExport({ handle, masterKey, dataDir, tenantId, from, to, records: records.length });
        }
        return { report, records };
      });
      const totals = {
        requests: result.report.totals.requests,
        inputTokens: result.report.totals.inputTokens,
        outputTokens: result.report.totals.outputTokens,
        costMicros: result.report.totals.costMicros,
      };
      if (flags.json) printJson({ totals, records: result.records });
      else {
        printTable([totals], ["requests", "inputTokens", "outputTokens", "costMicros"]);
        if (flags.records)
          printTable(result.records as unknown as Record<string, unknown>[], [
            "requestId",
            "time",
            "endpoint",
            "inputTokens",
            "outputTokens",
            "costMicros",
          ]);
      }
    });

  program
    .command("invoice")
    .description("A tenant's invoice for a month: line items per endpoint, totals (JSON or CSV)")
    .requiredOption("--tenant <name>", "tenant name or id")
    .requiredOption("--period <yyyy-mm>", "the month, e.g. 2026-11")
    .option("--format <format>", "json or csv", "json")
    .option("--finalize", "make the invoice final and immutable (only for a month that has ended)")
    .option("--reconcile", "check the invoice against the ledger; exit 1 if they differ")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(
      async (
        flags: StorageOptions & {
          tenant: string;
          period: string;
          format: string;
          finalize?: boolean;
          reconcile?: boolean;
        },
      ) => {
        if (flags.format !== "json" && flags.format !== "csv") throw new UsageError("--format must be json or csv");
        if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(flags.period)) throw new UsageError("--period must be YYYY-MM");
        const { createInvoiceService, renderInvoiceCsv, renderInvoiceJson } = await import(
          "../../commerce/invoices/index.js"
        );
        const { createPriceRepository } = await import("../../commerce/pricing/index.js");
        const { ModelportError } = await import("../../core/errors.js");
        await withTenantContext(flags, async ({ tenantId, handle }) => {
          const service = createInvoiceService({ handle, prices: createPriceRepository(handle) });
          if (flags.reconcile) {
            const result = await service.reconcile(tenantId, flags.period);
            printJson(result);
            if (!result.ok) throw new ModelportError("MP_CONFLICT", "the invoice does not match the ledger");
            return;
          }
          const invoice = flags.finalize
            ? await service.finalize(tenantId, flags.period)
            : await service.getInvoice(tenantId, flags.period);
          const text = flags.format === "csv" ? renderInvoiceCsv(invoice) : renderInvoiceJson(invoice);
          process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
        });
      },
    );
}
