import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { type BudgetScope, createBudgetGuard } from "./budget-guard.js";

function manualClock(start = Date.parse("2026-11-22T10:00:00.000Z")): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  } as Clock & { advance(ms: number): void };
}

/** A promise resolved from outside, to hold a ledger read open. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const scope: BudgetScope = { key: "tenant:t1", tenantId: "t1", budgetMicros: 1_000 };

describe("budget guard", () => {
  it("is exact within a process: concurrent reservations never pass the budget", async () => {
    const clock = manualClock();
    const guard = createBudgetGuard({ clock, spentSince: async () => 400 });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => guard.reserve([scope], 100)));
    assert.equal(outcomes.filter((outcome) => outcome.status === "fulfilled").length, 6, "400 spent + 6 × 100");
    const refused = outcomes.find((outcome) => outcome.status === "rejected");
    assert.ok(refused?.status === "rejected" && refused.reason instanceof ModelportError);
    assert.equal((refused.reason as ModelportError).code, "MP_BUDGET_EXCEEDED");
  });

  it("waits for the month's first ledger read, then refreshes in the background without stalling requests", async () => {
    const clock = manualClock();
    let ledger = 100;
    let reads = 0;
    let hold: ReturnType<typeof gate> | undefined;
    const guard = createBudgetGuard({
      clock,
      refreshMs: 5_000,
      spentSince: async () => {
        reads += 1;
        await hold?.promise;
        return ledger;
      },
    });
    // First use: concurrent requests all wait for the one read.
    hold = gate();
    const first = [guard.reserve([scope], 10), guard.status(scope)];
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 1);
    hold.open();
    await Promise.all(first);
    assert.equal((await guard.status(scope)).committedMicros, 100);

    // Another process spends 500; after refreshMs a request starts a refresh but does not wait for it.
    ledger = 600;
    clock.advance(5_001);
    hold = gate();
    const reservation = await guard.reserve([scope], 10); // resolves while the ledger read is held open
    assert.equal(reads, 2);
    assert.equal((await guard.status(scope)).committedMicros, 100, "the old figure until the read returns");
    reservation.settle(7); // settled during the refresh: kept on top of the ledger's figure
    hold.open();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await guard.status(scope)).committedMicros, 607);
    await guard.reserve([scope], 10);
    assert.equal(reads, 2, "no second refresh within refreshMs");
  });

  it("keeps the last figures when a background refresh fails, reports it, and retries after refreshMs", async () => {
    const clock = manualClock();
    let fail = false;
    let reads = 0;
    const errors: unknown[] = [];
    const guard = createBudgetGuard({
      clock,
      refreshMs: 1_000,
      onRefreshError: (error) => errors.push(error),
      spentSince: async () => {
        reads += 1;
        if (fail) throw new Error("database down");
        return 900;
      },
    });
    await guard.reserve([scope], 50);
    fail = true;
    clock.advance(1_001);
    await guard.reserve([scope], 10);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(errors.length, 1);
    assert.equal((await guard.status(scope)).committedMicros, 900);
    await assert.rejects(guard.reserve([scope], 100), /budget is spent/, "still enforced on the last figure");
    assert.equal(reads, 2, "no retry on every request");
    fail = false;
    clock.advance(1_001);
    await guard.reserve([scope], 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 3);
  });

  it("fails the request when the month's first read fails, and reads again on the next one", async () => {
    const clock = manualClock();
    let fail = true;
    const guard = createBudgetGuard({
      clock,
      spentSince: async () => {
        if (fail) throw new Error("database down");
        return 0;
      },
    });
    await assert.rejects(guard.reserve([scope], 10), /database down/);
    fail = false;
    await guard.reserve([scope], 10);
    assert.equal((await guard.status(scope)).reservedMicros, 10, "only the second request holds a reservation");
  });
});
