import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { type PlanInput, parsePlanInput } from "./plan-input.js";
import { firstInvoicePeriod } from "./plan-view.js";

const now = Date.parse("2026-11-22T08:00:00.000Z");

function rejects(input: PlanInput, param: string, message: RegExp): void {
  assert.throws(
    () => parsePlanInput("ten_1", input, now),
    (error: unknown) => {
      assert.ok(error instanceof ModelportError, String(error));
      assert.equal(error.code, "MP_INVALID_REQUEST");
      assert.equal(error.param, param);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(`${param}:`), `message names the field: ${error.message}`);
      return true;
    },
  );
}

describe("parsePlanInput", () => {
  it("reads USD and percentages exactly, as integer micros and basis points", () => {
    assert.deepEqual(
      parsePlanInput(
        "ten_1",
        { name: " pro ", includedUsd: "10.50", discountPercent: "12.5", effectiveFrom: "2026-12-01T00:00:00+01:00" },
        now,
      ),
      {
        tenantId: "ten_1",
        name: "pro",
        includedMicros: 10_500_000,
        adjustmentBps: -1_250,
        effectiveFrom: "2026-11-30T23:00:00.000Z",
      },
    );
    const markup = parsePlanInput("ten_1", { name: "resale", markupPercent: 0.07, includedMicros: 3 }, now);
    assert.equal(markup.adjustmentBps, 7);
    assert.equal(markup.includedMicros, 3);
    assert.equal(markup.effectiveFrom, "2026-11-22T08:00:00.000Z", "default: now");
    assert.equal(parsePlanInput("ten_1", { name: "p", markupPercent: "25%" }, now).adjustmentBps, 2_500);
    assert.equal(parsePlanInput("ten_1", { name: "p", adjustmentBps: "-10000" }, now).adjustmentBps, -10_000);
    assert.equal(
      parsePlanInput("ten_1", { name: "p", effectiveFrom: "2027-01-01" }, now).effectiveFrom,
      "2027-01-01T00:00:00.000Z",
    );
    const zero = parsePlanInput("ten_1", { name: "p", discountPercent: "0" }, now);
    assert.ok(Object.is(zero.adjustmentBps, 0), "a 0% discount is stored as 0, not -0");
  });

  it("refuses negative, non-finite and malformed amounts, naming the field", () => {
    rejects({ name: "p", includedUsd: "-1" }, "includedUsd", /negative/);
    rejects({ name: "p", includedUsd: -0.5 }, "includedUsd", /negative/);
    rejects({ name: "p", includedUsd: Number.POSITIVE_INFINITY }, "includedUsd", /finite/);
    rejects({ name: "p", includedUsd: Number.NaN }, "includedUsd", /NaN/);
    rejects({ name: "p", includedUsd: "ten" }, "includedUsd", /not a decimal amount/);
    rejects({ name: "p", includedMicros: -5 }, "includedMicros", /negative/);
    rejects({ name: "p", includedMicros: 1.5 }, "includedMicros", /integer/);
    rejects({ name: "p", includedMicros: Number.POSITIVE_INFINITY }, "includedMicros", /finite/);
    rejects({ name: "p", discountPercent: "-10" }, "discountPercent", /negative/);
    rejects({ name: "p", discountPercent: "101" }, "discountPercent", /at most 100/);
    rejects({ name: "p", markupPercent: "1000.01" }, "markupPercent", /at most 1000/);
    rejects({ name: "p", adjustmentBps: -10_001 }, "adjustmentBps", /-10000/);
    rejects({ name: "p", adjustmentBps: 2.5 }, "adjustmentBps", /integer/);
    rejects({ name: "" }, "name", /non-empty/);
    rejects({ name: 7 }, "name", /non-empty/);
  });

  it("refuses ambiguous plans: two ways to give one term, sub-unit precision, a time without an offset", () => {
    rejects(
      { name: "p", includedUsd: "1", includedMicros: 1_000_000 },
      "includedMicros",
      /only one of includedUsd, includedMicros/,
    );
    rejects({ name: "p", discountPercent: "5", markupPercent: "5" }, "markupPercent", /ambiguous/);
    rejects({ name: "p", discountPercent: "5", adjustmentBps: -500 }, "adjustmentBps", /ambiguous/);
    rejects({ name: "p", includedUsd: "0.0000001" }, "includedUsd", /more than 6 decimal places/);
    rejects({ name: "p", discountPercent: "12.345" }, "discountPercent", /more than 2 decimal places/);
    rejects({ name: "p", effectiveFrom: "2026-12-01T00:00:00" }, "effectiveFrom", /no UTC offset/);
    rejects({ name: "p", effectiveFrom: "next monday" }, "effectiveFrom", /not an ISO-8601 time/);
    rejects({ name: "p", effectiveFrom: "2026-13-01T00:00:00Z" }, "effectiveFrom", /not an ISO-8601 time/);
    rejects({ name: "p", effectiveFrom: 1_700_000_000 }, "effectiveFrom", /ISO-8601/);
  });
});

describe("firstInvoicePeriod", () => {
  it("is the month of a plan that starts on a month boundary, else the next month", () => {
    assert.equal(firstInvoicePeriod("2026-12-01T00:00:00.000Z"), "2026-12");
    assert.equal(firstInvoicePeriod("2026-11-22T08:00:00.000Z"), "2026-12");
    assert.equal(firstInvoicePeriod("2026-12-31T23:59:59.999Z"), "2027-01");
  });
});
