import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ModelportError } from "../../../core/errors.js";
import type { DatabaseHandle } from "../../../storage/database-handle.js";
import { createLedger, type Ledger } from "../../ledger/ledger.js";
import { createUsageMeter, type UsageMeter } from "../../ledger/meter.js";
import type { UsageRecord } from "../../ledger/usage-record.js";
import { createPriceRepository, type PriceRepository } from "../../pricing/price-repository.js";
import { createPriceResolver, type PriceResolver } from "../../pricing/price-resolver.js";
import { renderInvoiceCsv, renderInvoiceJson } from "../invoice-render.js";
import { createInvoiceService, type InvoiceService } from "../invoice-service.js";

export type OpenInvoiceDatabase = () => Promise<{ handle: DatabaseHandle; cleanup: () => Promise<void> }>;

const now = Date.UTC(2025, 5, 15); // "today" is 2025-06-15: May has ended, June has not.

/** Invoices on one database: lines, plan lines, renderers, finalize immutability and reconcile. */
export function invoiceSuite(name: string, openDatabase: OpenInvoiceDatabase): void {
  describe(`invoices on ${name}`, () => {
    let handle: DatabaseHandle;
    let cleanup: () => Promise<void>;
    let journalDir: string;
    let repository: PriceRepository;
    let resolver: PriceResolver;
    let ledger: Ledger;
    let meter: UsageMeter;
    let invoices: InvoiceService;
    let sequence = 0;

    async function addTenant(id: string, name_: string): Promise<void> {
      await handle.db
        .insertInto("tenants")
        .values({ id, name: name_, created_at: new Date(now).toISOString() })
        .execute();
    }

    function use(
      tenantId: string,
      endpoint: string,
      time: string,
      counts: { inputTokens?: number; outputTokens?: number; items?: number },
      kind: UsageRecord["kind"] = "chat",
    ): UsageRecord {
      sequence += 1;
      return meter.meter({
        requestId: `req_inv_${sequence}`,
        tenantId,
        keyId: "key_1",
        endpoint,
        model: kind === "predict" ? null : "gpt-4o-mini",
        kind,
        status: "ok",
        inputTokens: counts.inputTokens ?? 0,
        outputTokens: counts.outputTokens ?? 0,
        items: counts.items ?? 0,
        time: Date.parse(time),
      });
    }

    before(async () => {
      ({ handle, cleanup } = await openDatabase());
      journalDir = await mkdtemp(join(tmpdir(), "modelport-invoice-journal-"));
      repository = createPriceRepository(handle, { now: () => now });
      await repository.addPriceVersion({
        endpoint: "chat",
        inputPerMillionTokensMicros: 150_000,
        outputPerMillionTokensMicros: 600_000,
        perRequestMicros: 0,
        perPredictItemMicros: 0,
        effectiveFrom: "2025-01-01T00:00:00Z",
      });
      // A price change on May 20th: May's invoice shows both versions.
      await repository.addPriceVersion({
        endpoint: "chat",
        inputPerMillionTokensMicros: 300_000,
        outputPerMillionTokensMicros: 1_200_000,
        perRequestMicros: 100,
        perPredictItemMicros: 0,
        effectiveFrom: "2025-05-20T00:00:00Z",
      });
      await repository.addPriceVersion({
        endpoint: "iris",
        inputPerMillionTokensMicros: 0,
        outputPerMillionTokensMicros: 0,
        perRequestMicros: 1_000,
        perPredictItemMicros: 250,
        effectiveFrom: "2025-01-01T00:00:00Z",
      });
      resolver = createPriceResolver({ repository, refreshIntervalMs: 0 });
      await resolver.load();
      ledger = createLedger({ handle, journalPath: join(journalDir, "journal.db"), flushIntervalMs: 60_000 });
      meter = createUsageMeter({ ledger, prices: resolver });
      invoices = createInvoiceService({ handle, prices: repository, now: () => now });
    });

    after(async () => {
      resolver?.close();
      await ledger?.close();
      await handle?.close();
      await cleanup?.();
      if (journalDir !== undefined) await rm(journalDir, { recursive: true, force: true });
    });

    it("lists usage per endpoint, model and price version, with plan lines, and reconciles", async () => {
      await addTenant("ten_acme", "acme");
      await repository.addPlan({
        tenantId: "ten_acme",
        name: "startup",
        includedMicros: 1_000,
        adjustmentBps: -1_000,
        effectiveFrom: "2025-01-01T00:00:00Z",
      });
      use("ten_acme", "chat", "2025-05-01T00:00:00.000Z", { inputTokens: 10_000, outputTokens: 1_000 }); // 1500 + 600
      use("ten_acme", "chat", "2025-05-10T10:00:00.000Z", { inputTokens: 10, outputTokens: 3 }); // 2 + 2
      use("ten_acme", "chat", "2025-05-25T10:00:00.000Z", { inputTokens: 20_000, outputTokens: 500 }); // 6000 + 600 + 100
      use("ten_acme", "iris", "2025-05-31T23:59:59.999Z", { items: 8 }, "predict"); // 1000 + 2000
      use("ten_acme", "chat", "2025-06-01T00:00:00.000Z", { inputTokens: 99 }); // June: not on May's invoice
      use("ten_acme", "chat", "2025-04-30T23:59:59.999Z", { inputTokens: 99 }); // April
      await ledger.flush();

      const invoice = await invoices.getInvoice("ten_acme", "2025-05");
      assert.equal(invoice.status, "draft");
      assert.equal(invoice.id, null);
      assert.equal(invoice.tenantName, "acme");
      assert.equal(invoice.periodStart, "2025-05-01T00:00:00.000Z");
      assert.equal(invoice.periodEnd, "2025-06-01T00:00:00.000Z");
      assert.deepEqual(
        invoice.lines.map((line) => [
          line.endpoint,
          line.dimension,
          line.quantity,
          line.unitPriceMicros,
          line.amountMicros,
        ]),
        [
          ["chat", "input_tokens", 10_010, 150_000, 1_502],
          ["chat", "output_tokens", 1_003, 600_000, 602],
          ["chat", "requests", 2, 0, 0],
          ["chat", "input_tokens", 20_000, 300_000, 6_000],
          ["chat", "output_tokens", 500, 1_200_000, 600],
          ["chat", "requests", 1, 100, 100],
          ["iris", "requests", 1, 1_000, 1_000],
          ["iris", "predict_items", 8, 250, 2_000],
        ],
      );
      assert.equal(invoice.usageSubtotalMicros, 11_804);
      assert.deepEqual(
        invoice.adjustments.map((line) => [line.dimension, line.amountMicros]),
        [
          ["included_usage", -1_000],
          ["discount", -1_080], // 10% of 10,804, rounded half up in magnitude
        ],
      );
      assert.equal(invoice.totalMicros, 9_724);
      assert.equal(invoice.ledgerRecords, 4);

      const check = await invoices.reconcile("ten_acme", "2025-05");
      assert.equal(check.ok, true, check.problems.join("; "));
      assert.equal(check.ledgerCostMicros, 11_804);
      assert.equal(check.rollupCostMicros, 11_804);
      assert.equal(check.differenceMicros, 0);
    });

    it("renders JSON (the document, micros as integers) and CSV (exact decimals, one row per line)", async () => {
      const invoice = await invoices.getInvoice("ten_acme", "2025-05");
      const json = JSON.parse(renderInvoiceJson(invoice)) as Record<string, unknown>;
      assert.equal(json.totalMicros, 9_724);
      assert.equal(json.total, "0.009724");
      assert.equal(json.period, "2025-05");
      assert.ok(Array.isArray(json.lines));

      const csv = renderInvoiceCsv(invoice);
      const rows = csv.trimEnd().split("\r\n");
      assert.equal(
        rows[0],
        "period,tenant,type,endpoint,model,price_version,dimension,description,quantity,unit,unit_price,amount,currency",
      );
      assert.equal(rows.length, 1 + invoice.lines.length + 1 + invoice.adjustments.length + 1);
      assert.match(
        rows[1] ?? "",
        /^2025-05,acme,usage,chat,gpt-4o-mini,price_\w+,input_tokens,chat \(gpt-4o-mini\): input tokens,10010,tokens,0\.150000,0\.001502,USD$/,
      );
      assert.match(rows.at(-1) ?? "", /^2025-05,acme,total,,,,,total \(draft\),,,,0\.009724,USD$/);
      assert.ok(rows.some((row) => /,subtotal,.*,0\.011804,USD$/.test(row)));
      assert.ok(
        rows.some((row) => row.includes('"startup: discount 10.00%"') || row.includes("startup: discount 10.00%")),
      );
    });

    it("finalize freezes the invoice: later records and prices change the draft, not the final one", async () => {
      await assert.rejects(
        invoices.finalize("ten_acme", "2025-06"),
        (error: unknown) =>
          error instanceof ModelportError && error.code === "MP_INVALID_REQUEST" && /has not ended/.test(error.message),
      );
      const final = await invoices.finalize("ten_acme", "2025-05");
      assert.equal(final.status, "final");
      assert.match(final.id ?? "", /^inv_/);
      assert.equal(final.totalMicros, 9_724);

      // A late record for May and a new plan arrive after finalization.
      use("ten_acme", "chat", "2025-05-30T00:00:00.000Z", { inputTokens: 1_000_000 });
      await ledger.flush();
      await repository.addPlan({
        tenantId: "ten_acme",
        name: "free",
        includedMicros: 0,
        adjustmentBps: -10_000,
        effectiveFrom: "2025-04-01T00:00:00Z",
      });

      const again = await invoices.finalize("ten_acme", "2025-05");
      assert.deepEqual(again, final, "a second finalize returns the stored invoice");
      assert.deepEqual(await invoices.getInvoice("ten_acme", "2025-05"), final);
      const draft = await invoices.buildDraft("ten_acme", "2025-05");
      assert.equal(draft.usageSubtotalMicros, 11_804 + 300_000 + 100); // 1M tokens at 0.30 USD/M, plus 100 per request
      assert.equal(draft.totalMicros, 0, "the new plan applies to drafts only");

      const check = await invoices.reconcile("ten_acme", "2025-05");
      assert.equal(check.ok, false, "the ledger moved after finalization: reconcile says so");
      assert.equal(check.invoiceStatus, "final");
      assert.equal(check.differenceMicros, -300_100);
      assert.match(check.problems.join("; "), /invoice usage 0\.011804 ≠ ledger 0\.311904/);
    });

    it("property: for random usage at random prices, the invoice equals the ledger to the micro", async () => {
      await addTenant("ten_random", "random");
      let state = 17;
      const random = () => {
        state = (state * 48_271) % 2_147_483_647;
        return state / 2_147_483_647;
      };
      for (let version = 0; version < 4; version += 1) {
        await repository.addPriceVersion({
          endpoint: "rand",
          inputPerMillionTokensMicros: Math.floor(random() * 5_000_000),
          outputPerMillionTokensMicros: Math.floor(random() * 20_000_000),
          perRequestMicros: Math.floor(random() * 100),
          perPredictItemMicros: Math.floor(random() * 50),
          effectiveFrom: new Date(Date.UTC(2025, 2, 1 + version * 7)).toISOString(),
        });
      }
      await resolver.refresh();
      let expected = 0;
      for (let i = 0; i < 500; i += 1) {
        const record = use(
          "ten_random",
          "rand",
          new Date(Date.UTC(2025, 2, 1) + Math.floor(random() * 31 * 86_400_000)).toISOString(),
          {
            inputTokens: Math.floor(random() * 5_000),
            outputTokens: Math.floor(random() * 2_000),
            items: Math.floor(random() * 3),
          },
          i % 2 === 0 ? "chat" : "predict",
        );
        expected += record.costMicros;
      }
      await ledger.flush();
      const invoice = await invoices.getInvoice("ten_random", "2025-03");
      assert.equal(invoice.usageSubtotalMicros, expected);
      assert.equal(invoice.totalMicros, expected, "no plan: total = usage");
      assert.equal(invoice.ledgerRecords, 500);
      const check = await invoices.reconcile("ten_random", "2025-03");
      assert.equal(check.ok, true, check.problems.join("; "));
    });

    it("an empty month is a zero invoice; bad periods and mixed currencies are refused", async () => {
      const empty = await invoices.getInvoice("ten_nobody", "2025-02");
      assert.deepEqual([empty.lines, empty.totalMicros, empty.tenantName], [[], 0, null]);
      for (const period of ["2025-13", "2025-1", "May 2025", "2025-05-01"]) {
        await assert.rejects(
          invoices.getInvoice("ten_acme", period),
          (error: unknown) => error instanceof ModelportError && error.param === "period",
        );
      }
      await addTenant("ten_mixed", "mixed");
      await repository.addPriceVersion({
        endpoint: "euro",
        currency: "EUR",
        inputPerMillionTokensMicros: 1,
        outputPerMillionTokensMicros: 1,
        perRequestMicros: 1,
        perPredictItemMicros: 1,
        effectiveFrom: "2025-01-01T00:00:00Z",
      });
      await resolver.refresh();
      use("ten_mixed", "euro", "2025-04-02T00:00:00.000Z", { inputTokens: 1 });
      use("ten_mixed", "chat", "2025-04-02T00:00:00.000Z", { inputTokens: 1 });
      await ledger.flush();
      await assert.rejects(
        invoices.getInvoice("ten_mixed", "2025-04"),
        (error: unknown) =>
          error instanceof ModelportError && error.code === "MP_CONFLICT" && /several currencies/.test(error.message),
      );
    });
  });
}
