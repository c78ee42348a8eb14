import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeUsageRecord } from "../src/commerce/ledger/testing/records.js";
import { writeUsageBatch } from "../src/commerce/ledger/write-batch.js";
import { chargeFor } from "../src/commerce/pricing/cost.js";
import { createPriceRepository } from "../src/commerce/pricing/price-repository.js";
import { openDatabase } from "../src/storage/database.js";
import { runCli } from "./helpers/cli.js";

/**
 * The billing command line on a real data dir (SQLite): key budgets from `--budget-usd`, plans set
 * and listed with `modelport plans`, and a plan set from the CLI changing the invoice exactly.
 */
describe("CLI: key budgets and tenant plans", () => {
  let dataDir: string;
  let tenantId: string;
  const cli = (...args: string[]) => runCli([...args, "--data-dir", dataDir]);
  /** Runs a `--json` command that must succeed and parses what it printed. */
  const cliJson = async <T>(...args: string[]): Promise<T> => {
    const result = await cli(...args, "--json");
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-commerce-cli-"));
    const created = await cli("tenants", "create", "acme", "--json");
    assert.equal(created.code, 0, created.stderr);
    tenantId = (JSON.parse(created.stdout) as { id: string }).id;

    // October 2026: 9 chat calls at 2 µ$/input token, 4 µ$/output token, 100 µ$ per request.
    const handle = await openDatabase({ dataDir });
    try {
      const price = await createPriceRepository(handle).addPriceVersion({
        endpoint: "chat",
        inputPerMillionTokensMicros: 2_000_000,
        outputPerMillionTokensMicros: 4_000_000,
        perRequestMicros: 100,
        perPredictItemMicros: 0,
        effectiveFrom: "2026-01-01T00:00:00Z",
      });
      const records = Array.from({ length: 9 }, (_, index) => {
        const quantities = { inputTokens: 100 + index, outputTokens: 50 + 3 * index, items: 0 };
        const charge = chargeFor(price, quantities);
        return makeUsageRecord(index, {
          tenantId,
          keyId: "key_cli",
          endpoint: "chat",
          ...quantities,
          priceVersionId: price.id,
          costMicros: charge.costMicros,
          inputCostMicros: charge.inputCostMicros,
          outputCostMicros: charge.outputCostMicros,
          time: new Date(Date.UTC(2026, 9, 10, 12, 0, index)).toISOString(),
        });
      });
      assert.equal((await writeUsageBatch(handle, records)).inserted, 9);
    } finally {
      await handle.close();
    }
  });
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("creates a key with a monthly budget from --budget-usd, exactly in micros", async () => {
    type Listed = { id: string; limits: { monthlyBudgetMicros: number | null } }[];
    const shown = await cliJson<Record<string, unknown>>(
      "keys",
      "create",
      "--tenant",
      "acme",
      "--name",
      "capped",
      "--budget-usd",
      "12.345678",
    );
    assert.deepEqual(Object.keys(shown).sort(), ["id", "key", "prefix", "tenant"]);
    const whole = await cliJson<{ id: string }>("keys", "create", "--tenant", "acme", "--budget-usd", "25");
    const listed = await cliJson<Listed>("keys", "list", "--tenant", "acme");
    assert.equal(listed.find((entry) => entry.id === shown.id)?.limits.monthlyBudgetMicros, 12_345_678);
    assert.equal(listed.find((entry) => entry.id === whole.id)?.limits.monthlyBudgetMicros, 25_000_000);
  });

  it("refuses a bad --budget-usd as a usage error naming the flag, and creates no key", async () => {
    const before = (await cliJson<unknown[]>("keys", "list", "--tenant", "acme")).length;
    const cases: [string, RegExp][] = [
      ["-5", /negative/],
      ["abc", /not a decimal amount/],
      ["Infinity", /not a decimal amount/],
      ["NaN", /not a decimal amount/],
      ["1.0000001", /more than 6 decimal places/],
      ["", /not a decimal amount/],
    ];
    for (const [value, message] of cases) {
      const result = await cli("keys", "create", "--tenant", "acme", `--budget-usd=${value}`);
      assert.equal(result.code, 2, `${value}: ${result.stderr}`);
      assert.match(result.stderr, /--budget-usd/, value);
      assert.match(result.stderr, message, value);
    }
    const after = (await cliJson<unknown[]>("keys", "list", "--tenant", "acme")).length;
    assert.equal(after, before);
  });

  it("sets and lists plans; a plan from the CLI changes the invoice total exactly", async () => {
    const invoice = async () => {
      const result = await cli("invoice", "--tenant", "acme", "--period", "2026-10");
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { usageSubtotalMicros: number; totalMicros: number };
    };
    // Over i = 0..8: Σ(100+i)·2 = 1,872 + Σ(50+3i)·4 = 2,232 + 9·100 = 900 → 5,004 micro-USD.
    const before = await invoice();
    assert.equal(before.usageSubtotalMicros, 5_004);
    assert.equal(before.totalMicros, 5_004);

    const set = await cli(
      "plans",
      "set",
      "--tenant",
      "acme",
      "--name",
      "reseller",
      "--included-usd",
      "0.001",
      "--markup-percent",
      "7.25",
      "--effective-from",
      "2026-10-01T00:00:00Z",
      "--json",
    );
    assert.equal(set.code, 0, set.stderr);
    const plan = JSON.parse(set.stdout) as Record<string, unknown>;
    assert.equal(plan.includedMicros, 1_000);
    assert.equal(plan.adjustmentBps, 725);
    assert.equal(plan.firstInvoicePeriod, "2026-10");
    assert.equal(plan.tenantId, tenantId);

    // 5,004 − 1,000 included = 4,004; 7.25% of 4,004 = 290.29 → 290; 4,004 + 290 = 4,294.
    const after = await invoice();
    assert.equal(after.usageSubtotalMicros, 5_004);
    assert.equal(after.totalMicros, 4_294);
    const reconcile = await cli("invoice", "--tenant", "acme", "--period", "2026-10", "--reconcile");
    assert.equal(reconcile.code, 0, reconcile.stdout + reconcile.stderr);
    // September has no usage and no plan in effect at its start: unchanged.
    assert.equal((await cli("invoice", "--tenant", "acme", "--period", "2026-09")).code, 0);

    const listed = await cli("plans", "list", "--tenant", "acme", "--json");
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string; name: string }[]).map((entry) => [entry.id, entry.name]),
      [[plan.id, "reseller"]],
    );
    const table = await cli("plans", "list", "--tenant", "acme");
    assert.match(table.stdout, /reseller\s+2026-10-01T00:00:00.000Z\s+2026-10\s+1000\s+725/);
    const audit = await cli("audit", "list", "--action", "plan-changed", "--json");
    assert.equal(audit.code, 0, audit.stderr);
    const entries = (JSON.parse(audit.stdout) as { entries: { actor: string; target: string }[] }).entries;
    assert.deepEqual(
      entries.map((entry) => [entry.actor, entry.target]),
      [["cli", plan.id]],
      "setting a plan from the CLI is on the audit trail",
    );
  });

  it("refuses a negative, non-finite or ambiguous plan, naming the field, and stores nothing", async () => {
    const count = async () => (await cliJson<unknown[]>("plans", "list", "--tenant", "acme")).length;
    const before = await count();
    const cases: [string[], RegExp][] = [
      [["--included-usd=-1"], /MP_INVALID_REQUEST: includedUsd: must not be negative/],
      [["--included-usd", "Infinity"], /MP_INVALID_REQUEST: includedUsd: is not a decimal amount/],
      [["--discount-percent", "5", "--markup-percent", "5"], /MP_INVALID_REQUEST: markupPercent: .*ambiguous/],
      [["--discount-percent", "150"], /MP_INVALID_REQUEST: discountPercent: must be at most 100/],
      [["--adjustment-bps", "1.5"], /MP_INVALID_REQUEST: adjustmentBps: must be an integer/],
      [["--effective-from", "2026-12-01T00:00"], /MP_INVALID_REQUEST: effectiveFrom: .*no UTC offset/],
    ];
    for (const [flags, message] of cases) {
      const result = await cli("plans", "set", "--tenant", "acme", "--name", "bad", ...flags);
      assert.equal(result.code, 1, `${flags.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const missingName = await cli("plans", "set", "--tenant", "acme");
    assert.equal(missingName.code, 2);
    const unknownTenant = await cli("plans", "list", "--tenant", "nobody");
    assert.equal(unknownTenant.code, 1);
    assert.match(unknownTenant.stderr, /MP_NOT_FOUND/);
    assert.equal(await count(), before);
  });
});
