import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { openDatabase } from "../../storage/database.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { syncConfigPrices } from "./config-prices.js";
import { chargeFor } from "./cost.js";
import { parseCurrency, parsePriceSchedule } from "./parse-prices.js";
import { applyPlan, validatePlanTerms } from "./plan-math.js";
import { createPriceRepository } from "./price-repository.js";
import { createPriceResolver } from "./price-resolver.js";

const isCode = (code: string, pattern: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === code && pattern.test(error.message);

describe("parsePriceSchedule", () => {
  it("converts USD decimals to integer micros, missing fields to 0", () => {
    assert.deepEqual(
      parsePriceSchedule({ inputPerMillionTokens: 0.15, outputPerMillionTokens: "0.60" }, { fieldPrefix: "p" }),
      {
        inputPerMillionTokensMicros: 150_000,
        outputPerMillionTokensMicros: 600_000,
        perRequestMicros: 0,
        perPredictItemMicros: 0,
      },
    );
    assert.equal(
      parsePriceSchedule({ perRequest: "0.0001", perPredictItem: 0.000002 }, { fieldPrefix: "p" }).perRequestMicros,
      100,
    );
  });

  it("rejects negative, non-finite, ambiguous and unknown prices, naming the config field", () => {
    const prefix = { fieldPrefix: "endpoints.chat-small.pricing", code: "MP_CONFIG_INVALID" as const };
    assert.throws(
      () => parsePriceSchedule({ inputPerMillionTokens: -1 }, prefix),
      isCode("MP_CONFIG_INVALID", /^endpoints\.chat-small\.pricing\.inputPerMillionTokens: must not be negative/),
    );
    assert.throws(
      () => parsePriceSchedule({ perRequest: Number.POSITIVE_INFINITY }, prefix),
      isCode("MP_CONFIG_INVALID", /perRequest: must be finite/),
    );
    assert.throws(
      () => parsePriceSchedule({ perPredictItem: Number.NaN }, prefix),
      isCode("MP_CONFIG_INVALID", /perPredictItem: must be a number, got NaN/),
    );
    assert.throws(
      () => parsePriceSchedule({ outputPerMillionTokens: "0.0000005" }, prefix),
      isCode("MP_CONFIG_INVALID", /outputPerMillionTokens: has more than 6 decimal places/),
    );
    assert.throws(
      () => parsePriceSchedule({ inputPerMilionTokens: 1 } as never, prefix),
      isCode("MP_CONFIG_INVALID", /inputPerMilionTokens: unknown price field/),
    );
  });

  it("currencies are three upper-case letters", () => {
    assert.equal(parseCurrency("EUR", "currency"), "EUR");
    assert.throws(() => parseCurrency("usd", "currency"), isCode("MP_INVALID_REQUEST", /three upper-case letters/));
  });
});

describe("chargeFor", () => {
  const prices = {
    inputPerMillionTokensMicros: 150_000,
    outputPerMillionTokensMicros: 600_000,
    perRequestMicros: 50,
    perPredictItemMicros: 7,
  };
  it("rounds each token part half up once and adds exact per-request and per-item parts", () => {
    // 10 input tokens: 1.5 micros → 2; 3 output tokens: 1.8 → 2; request 50; 4 items × 7 = 28.
    assert.deepEqual(chargeFor(prices, { inputTokens: 10, outputTokens: 3, items: 4 }), {
      inputCostMicros: 2,
      outputCostMicros: 2,
      requestCostMicros: 50,
      itemCostMicros: 28,
      costMicros: 82,
    });
  });
  it("a free endpoint costs 0", () => {
    const zero = {
      inputPerMillionTokensMicros: 0,
      outputPerMillionTokensMicros: 0,
      perRequestMicros: 0,
      perPredictItemMicros: 0,
    };
    assert.equal(chargeFor(zero, { inputTokens: 1_000_000, outputTokens: 5, items: 9 }).costMicros, 0);
  });
});

describe("plan math", () => {
  it("credits the included amount first, then applies the discount to the rest", () => {
    assert.deepEqual(applyPlan(1_000_000, { includedMicros: 200_000, adjustmentBps: -1_000 }), {
      includedCreditMicros: -200_000,
      adjustmentMicros: -80_000,
      totalMicros: 720_000,
    });
  });
  it("never credits more than the usage, and a markup adds", () => {
    assert.deepEqual(applyPlan(150, { includedMicros: 1_000, adjustmentBps: 2_500 }), {
      includedCreditMicros: -150,
      adjustmentMicros: 0,
      totalMicros: 0,
    });
    assert.equal(applyPlan(1_000, { includedMicros: 0, adjustmentBps: 2_500 }).totalMicros, 1_250);
    assert.equal(
      applyPlan(15, { includedMicros: 0, adjustmentBps: -1_000 }).adjustmentMicros,
      -2,
      "1.5 rounds half up in magnitude",
    );
    assert.equal(
      applyPlan(999, { includedMicros: 0, adjustmentBps: -10_000 }).totalMicros,
      0,
      "a 100% discount is free, not negative",
    );
    assert.deepEqual(applyPlan(5, undefined), { includedCreditMicros: 0, adjustmentMicros: 0, totalMicros: 5 });
  });
  it("property: total = subtotal + credit + adjustment, 0 ≤ total, for random plans", () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 5_000; i += 1) {
      const subtotal = Math.floor(random() * 1e12);
      const terms = {
        includedMicros: Math.floor(random() * 1e11),
        adjustmentBps: Math.floor(random() * 30_000) - 10_000,
      };
      const applied = applyPlan(subtotal, terms);
      assert.equal(subtotal + applied.includedCreditMicros + applied.adjustmentMicros, applied.totalMicros);
      assert.ok(applied.totalMicros >= 0);
      assert.ok(-applied.includedCreditMicros <= Math.min(subtotal, terms.includedMicros));
    }
  });
  it("rejects out-of-range plans", () => {
    assert.throws(() => validatePlanTerms({ includedMicros: -1, adjustmentBps: 0 }), /includedMicros/);
    assert.throws(() => validatePlanTerms({ includedMicros: 0, adjustmentBps: -10_001 }), /adjustmentBps/);
    assert.throws(() => validatePlanTerms({ includedMicros: 0, adjustmentBps: 0.5 }), /adjustmentBps/);
  });
});

describe("price versions, resolver and config sync (SQLite)", () => {
  let dataDir: string;
  let handle: DatabaseHandle;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-pricing-"));
    handle = await openDatabase({ dataDir });
  });
  after(async () => {
    await handle.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const schedule = (input: number) => ({
    inputPerMillionTokensMicros: input,
    outputPerMillionTokensMicros: 0,
    perRequestMicros: 0,
    perPredictItemMicros: 0,
  });

  it("picks the most specific price, then the latest effective one at the given time", async () => {
    const repository = createPriceRepository(handle);
    const general = await repository.addPriceVersion({
      endpoint: "chat",
      ...schedule(1),
      effectiveFrom: "2025-01-01T00:00:00Z",
    });
    const generalLater = await repository.addPriceVersion({
      endpoint: "chat",
      ...schedule(2),
      effectiveFrom: "2025-03-01T00:00:00Z",
    });
    const forTarget = await repository.addPriceVersion({
      endpoint: "chat",
      target: "local",
      ...schedule(3),
      effectiveFrom: "2025-02-01T00:00:00Z",
    });
    const forTenant = await repository.addPriceVersion({
      endpoint: "chat",
      tenantId: "ten_vip",
      ...schedule(4),
      effectiveFrom: "2025-01-15T00:00:00Z",
    });
    const resolver = createPriceResolver({ repository, refreshIntervalMs: 0 });
    assert.throws(() => resolver.priceFor("ten_a", "chat", Date.now()), /before load/);
    await resolver.load();
    assert.equal(resolver.priceFor("ten_a", "chat", "2024-12-31T23:59:59.999Z"), undefined, "before any version: free");
    assert.equal(
      resolver.priceFor("ten_a", "chat", "2025-01-01T00:00:00.000Z")?.id,
      general.id,
      "effectiveFrom is inclusive",
    );
    assert.equal(resolver.priceFor("ten_a", "chat", "2025-03-05T00:00:00.000Z")?.id, generalLater.id);
    assert.equal(resolver.priceFor("ten_a", "chat", "2025-03-05T00:00:00.000Z", "local")?.id, forTarget.id);
    assert.equal(
      resolver.priceFor("ten_a", "chat", "2025-01-20T00:00:00.000Z", "local")?.id,
      general.id,
      "target price not yet in effect",
    );
    assert.equal(
      resolver.priceFor("ten_vip", "chat", "2025-06-01T00:00:00.000Z", "local")?.id,
      forTenant.id,
      "tenant beats target",
    );
    assert.equal(resolver.priceFor("ten_a", "other", Date.parse("2025-06-01")), undefined);
    // A new version shows after refresh; the old one still prices the past.
    const cheaper = await repository.addPriceVersion({
      endpoint: "chat",
      ...schedule(0),
      effectiveFrom: "2025-07-01T00:00:00Z",
    });
    await resolver.refresh();
    assert.equal(resolver.priceFor("ten_a", "chat", "2025-07-02T00:00:00.000Z")?.id, cheaper.id);
    assert.equal(resolver.priceFor("ten_a", "chat", "2025-03-05T00:00:00.000Z")?.id, generalLater.id);
    resolver.close();
    await assert.rejects(
      repository.addPriceVersion({ endpoint: "chat", ...schedule(-5), effectiveFrom: "2025-01-01T00:00:00Z" }),
      isCode("MP_INVALID_REQUEST", /non-negative/),
    );
    await assert.rejects(
      repository.addPriceVersion({ endpoint: "chat", ...schedule(1), effectiveFrom: "soon" }),
      isCode("MP_INVALID_REQUEST", /effectiveFrom/),
    );
  });

  it("config sync adds a version only when the configured price changes, and never edits old ones", async () => {
    const repository = createPriceRepository(handle);
    const day = (n: number) => Date.UTC(2025, 0, n);
    const first = await syncConfigPrices({
      repository,
      endpoints: { cfg: { pricing: { inputPerMillionTokens: 0.15 } }, free: {} },
      now: day(1),
    });
    assert.equal(first.length, 1);
    assert.equal(first[0]?.inputPerMillionTokensMicros, 150_000);
    assert.equal(
      (
        await syncConfigPrices({
          repository,
          endpoints: { cfg: { pricing: { inputPerMillionTokens: "0.150" } } },
          now: day(2),
        })
      ).length,
      0,
    );
    const changed = await syncConfigPrices({
      repository,
      endpoints: { cfg: { pricing: { inputPerMillionTokens: 0.2 } } },
      now: day(3),
    });
    assert.equal(changed[0]?.inputPerMillionTokensMicros, 200_000);
    const removed = await syncConfigPrices({ repository, endpoints: {}, now: day(4) });
    assert.equal(removed[0]?.inputPerMillionTokensMicros, 0, "pricing removed from the config: free from now on");
    const versions = await repository.listPriceVersions({ endpoint: "cfg" });
    assert.deepEqual(
      versions.map((v) => [v.inputPerMillionTokensMicros, v.effectiveFrom]),
      [
        [150_000, "2025-01-01T00:00:00.000Z"],
        [200_000, "2025-01-03T00:00:00.000Z"],
        [0, "2025-01-04T00:00:00.000Z"],
      ],
    );
    await assert.rejects(
      syncConfigPrices({ repository, endpoints: { bad: { pricing: { perRequest: -1 } } }, now: day(5) }),
      isCode("MP_CONFIG_INVALID", /endpoints\.bad\.pricing\.perRequest: must not be negative/),
    );
  });
});
