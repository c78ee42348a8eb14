import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Clock } from "../src/core/clock.js";
import { ModelportError } from "../src/core/errors.js";
import { type AlertDispatcher, createAlertDispatcher } from "../src/monitoring/alerts/dispatcher.js";
import { createFeedbackStore } from "../src/monitoring/feedback/index.js";
import { createRequestLogRepository } from "../src/monitoring/request-log/repository.js";
import type { RequestLogEntry } from "../src/monitoring/request-log/types.js";
import {
  type AlertRuleInput,
  createRequestStatsSource,
  evaluateRules,
  parseAlertRules,
  parseWindow,
  type RuleOutcome,
  type RuleSources,
  scheduleRules,
} from "../src/monitoring/rules/index.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

// Aligned to a 5-minute bucket, so the de-dup buckets below are predictable.
const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

let sequence = 0;
function entry(fields: Partial<RequestLogEntry> & { endpoint: string; time: string }): RequestLogEntry {
  sequence++;
  return {
    requestId: `req_${String(sequence).padStart(6, "0")}`,
    tenantId: "ten_a",
    keyId: null,
    endUserHash: null,
    protocol: "oip",
    method: "POST",
    path: "/v2/models/x/infer",
    target: "t1",
    modelVersion: "1",
    status: 200,
    errorCode: null,
    latencyUs: 1_000,
    overheadUs: 10,
    inputTokens: null,
    outputTokens: null,
    costMicros: null,
    cacheHit: false,
    stream: false,
    guardVerdicts: null,
    requestPayload: null,
    responsePayload: null,
    ...fields,
  };
}

/** `count` requests on an endpoint, the first `errors` of them 5xx, latencies 1..count ms. */
function traffic(
  endpoint: string,
  count: number,
  errors: number,
  extra: Partial<Omit<RequestLogEntry, "endpoint" | "time">> = {},
): RequestLogEntry[] {
  return Array.from({ length: count }, (_, i) =>
    entry({
      endpoint,
      time: at(20_000 + i * 100),
      status: i < errors ? 503 : 200,
      errorCode: i < errors ? "MP_UPSTREAM_UNAVAILABLE" : null,
      latencyUs: (i + 1) * 1_000,
      ...extra,
    }),
  );
}

const rules = (input: AlertRuleInput[]) => parseAlertRules(input);
const firing = (outcomes: RuleOutcome[]) =>
  outcomes
    .filter((outcome) => outcome.firing)
    .map((outcome) => `${outcome.rule}:${outcome.scope}`)
    .sort();

function rulesSuite(dialect: string, open: () => Promise<{ handle: DatabaseHandle; cleanup(): Promise<void> }>) {
  describe(`alert rules (${dialect})`, () => {
    let handle: DatabaseHandle;
    let cleanup: () => Promise<void>;
    let dispatcher: AlertDispatcher;
    let sources: RuleSources;
    let now = T0 + 200_000;
    const clock: Clock = { now: () => now, monotonic: () => now };

    before(async () => {
      ({ handle, cleanup } = await open());
      dispatcher = createAlertDispatcher({ db: handle.db, clock, webhooksFor: async () => [] });
      const log = createRequestLogRepository(handle.db);
      await log.insertMany([
        // Exactly at a 10 % threshold (4xx are the caller's fault and do not count).
        ...traffic("ep-at", 100, 10),
        entry({ endpoint: "ep-at", time: at(30_000), status: 429, errorCode: "MP_RATE_LIMITED" }),
        entry({ endpoint: "ep-at", time: at(30_001), status: 404, errorCode: "MP_NOT_FOUND" }),
        // Just above it.
        ...traffic("ep-over", 100, 11),
        // All failing, but too little traffic to decide.
        ...traffic("ep-quiet", 5, 5),
        // Another tenant's failing traffic.
        ...traffic("ep-b", 50, 50, { tenantId: "ten_b" }),
        // Failures long before the window.
        ...Array.from({ length: 50 }, (_, i) =>
          entry({ endpoint: "ep-at", time: at(-600_000 + i), status: 500, latencyUs: 9_000_000 }),
        ),
      ]);
      const feedback = createFeedbackStore({ db: handle.db, clock });
      await feedback.recordPredictions(
        Array.from({ length: 20 }, (_, i) => ({
          requestId: `pred_${i}`,
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t1",
          modelVersion: "1",
          predictedLabel: "spam",
          createdAt: at(20_000 + i),
        })),
      );
      for (let i = 0; i < 20; i++)
        await feedback.submit({ tenantId: "ten_a", requestId: `pred_${i}`, label: i < 17 ? "spam" : "ham" });
      sources = {
        requests: createRequestStatsSource(handle.db),
        quality: feedback,
        drift: {
          latest: async () => [
            {
              tenantId: "ten_a",
              endpoint: "spam",
              version: "1",
              driftShare: 0.5,
              datasetDrift: true,
              checkedAt: at(0),
            },
            {
              tenantId: "ten_a",
              endpoint: "iris",
              version: "2",
              driftShare: 0.25,
              datasetDrift: false,
              checkedAt: at(0),
            },
          ],
        },
        budgets: {
          status: async () => [
            { tenantId: "ten_a", spentMicros: 800_000, budgetMicros: 1_000_000 },
            { tenantId: "ten_b", spentMicros: 799_999, budgetMicros: 1_000_000 },
            { tenantId: "ten_c", spentMicros: 5_000_000, budgetMicros: null },
          ],
        },
      };
    });
    after(async () => {
      await dispatcher?.close();
      await cleanup?.();
    });

    it("computes error rate (status ≥ 500 only) and nearest-rank p99 over the window", async () => {
      const stats = createRequestStatsSource(handle.db);
      const window = { from: at(0), to: at(300_000) };
      const atThreshold = await stats.stats({ ...window, endpoint: "ep-at" });
      assert.equal(atThreshold.requests, 102);
      assert.equal(atThreshold.errors, 10);
      // 100 latencies 1..100 ms plus two 1 ms: rank ceil(0.99 × 102) = 101 → 99 ms.
      assert.equal(atThreshold.p99LatencyUs, 99_000);
      const over = await stats.stats({ ...window, endpoint: "ep-over" });
      assert.equal(over.errorRate, 0.11);
      assert.equal(over.p99LatencyUs, 99_000);
      const empty = await stats.stats({ ...window, endpoint: "nothing" });
      assert.deepEqual(empty, { requests: 0, errors: 0, errorRate: null, p99LatencyUs: null });
      const tenantB = await stats.stats({ ...window, tenantId: "ten_b" });
      assert.equal(tenantB.requests, 50);
      assert.deepEqual(await stats.endpoints({ ...window, tenantId: "ten_a" }), ["ep-at", "ep-over", "ep-quiet"]);
    });

    it("fires an error-rate rule just above the threshold, not at it, not on thin traffic", async () => {
      const outcomes = await evaluateRules({
        rules: rules([{ name: "errors", kind: "error-rate", tenantId: "ten_a", threshold: 0.1 }]),
        sources,
        alerts: dispatcher,
        now,
      });
      assert.deepEqual(firing(outcomes), ["errors:ep-over"]);
      const atThreshold = outcomes.find((outcome) => outcome.scope === "ep-at");
      assert.equal(atThreshold?.firing, false);
      assert.ok(Math.abs((atThreshold?.value ?? 0) - 10 / 102) < 1e-12);
      assert.match(outcomes.find((outcome) => outcome.scope === "ep-quiet")?.skipped ?? "", /5 requests < 10/);
      const alert = (await dispatcher.list({ tenantId: "ten_a" })).find((record) => record.kind === "error-rate-high");
      assert.ok(alert);
      assert.equal(alert.dedupKey, `rule:errors:ep-over:${Math.floor(now / 300_000)}`);
    });

    it("fires a p99 rule above the boundary only", async () => {
      const atBoundary = await evaluateRules({
        rules: rules([{ name: "slow", kind: "p99-latency", endpoint: "ep-over", threshold: 99 }]),
        sources,
        alerts: dispatcher,
        now,
      });
      assert.deepEqual(firing(atBoundary), []);
      assert.equal(atBoundary[0]?.value, 99);
      const below = await evaluateRules({
        rules: rules([
          { name: "slow", kind: "p99-latency", endpoint: "ep-over", threshold: 98.5, severity: "critical" },
        ]),
        sources,
        alerts: dispatcher,
        now,
      });
      assert.deepEqual(firing(below), ["slow:ep-over"]);
      const alert = (await dispatcher.list({ tenantId: null })).find((record) => record.kind === "latency-high");
      assert.equal(alert?.severity, "critical");
    });

    it("de-duplicates within a window bucket and fires again in the next", async () => {
      const rule = rules([{ name: "dedup", kind: "error-rate", endpoint: "ep-over", threshold: 0.1 }]);
      const first = await evaluateRules({ rules: rule, sources, alerts: dispatcher, now });
      assert.equal(first[0]?.isNew, true);
      now = T0 + 250_000;
      const sameBucket = await evaluateRules({ rules: rule, sources, alerts: dispatcher, now });
      assert.equal(sameBucket[0]?.firing, true);
      assert.equal(sameBucket[0]?.isNew, false);
      assert.equal(sameBucket[0]?.alertId, first[0]?.alertId);
      now = T0 + 310_000;
      const nextBucket = await evaluateRules({ rules: rule, sources, alerts: dispatcher, now });
      assert.equal(nextBucket[0]?.isNew, true);
      assert.notEqual(nextBucket[0]?.alertId, first[0]?.alertId);
      now = T0 + 200_000;
    });

    it("evaluates drift, budget and accuracy through their ports", async () => {
      const outcomes = await evaluateRules({
        rules: rules([
          { name: "drift", kind: "drift", threshold: 0.5 },
          { name: "budget", kind: "budget", threshold: 0.8 },
          { name: "acc", kind: "accuracy", endpoint: "spam", threshold: 0.9, minRequests: 20 },
          { name: "acc-ok", kind: "accuracy", endpoint: "spam", threshold: 0.85, minRequests: 20 },
          { name: "acc-thin", kind: "accuracy", endpoint: "spam", threshold: 0.9, minRequests: 21 },
        ]),
        sources,
        alerts: dispatcher,
        now,
      });
      assert.deepEqual(firing(outcomes), ["acc:spam", "budget:ten_a", "drift:spam@1"]);
      assert.equal(outcomes.find((outcome) => outcome.rule === "acc")?.value, 0.85);
      assert.match(outcomes.find((outcome) => outcome.rule === "acc-thin")?.skipped ?? "", /20 labels < 21/);
      assert.equal(outcomes.filter((outcome) => outcome.rule === "budget").length, 2, "no budget, no verdict");
      const tenantAlerts = await dispatcher.list({ tenantId: "ten_a" });
      assert.ok(
        tenantAlerts.some((alert) => alert.kind === "budget-threshold-reached"),
        "sent to the tenant",
      );
      assert.ok(tenantAlerts.some((alert) => alert.kind === "drift-detected"));
      assert.ok((await dispatcher.list({ tenantId: null })).some((alert) => alert.kind === "accuracy-low"));
    });

    it("reports a missing source or a failing one without stopping the other rules", async () => {
      const outcomes = await evaluateRules({
        rules: rules([
          { name: "broken", kind: "drift", threshold: 0.5 },
          { name: "no-budget", kind: "budget", threshold: 1 },
          { name: "fine", kind: "error-rate", endpoint: "ep-over", threshold: 0.5 },
        ]),
        sources: {
          requests: sources.requests,
          drift: {
            latest: async () => {
              throw new Error("drift store down");
            },
          },
        },
        alerts: dispatcher,
        now,
      });
      assert.equal(outcomes.length, 3);
      assert.equal(outcomes[0]?.error, "drift store down");
      assert.equal(outcomes[1]?.skipped, "no source");
      assert.equal(outcomes[2]?.firing, false);
      assert.equal(outcomes[2]?.value, 0.11);
    });
  });
}

rulesSuite("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "modelport-rules-"));
  const handle = await openDatabase({ dataDir: dir });
  return {
    handle,
    cleanup: async () => {
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const probe = await probePostgres();
if (probe.state !== "ready") reportPostgresUnavailable("alert rules (postgres)", probe);
else
  rulesSuite("postgres", async () => {
    const database = await createTestDatabase(probe.adminUrl);
    const handle = await openDatabase({ dataDir: "", databaseUrl: database.url });
    return {
      handle,
      cleanup: async () => {
        await handle.close();
        await database.drop();
      },
    };
  });

describe("alert rule config", () => {
  const invalid = (input: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseAlertRules(input),
      (error: unknown) =>
        error instanceof ModelportError && error.code === "MP_CONFIG_INVALID" && pattern.test(error.message),
    );

  it("applies defaults", () => {
    const [rule] = parseAlertRules([{ name: "e", kind: "error-rate", threshold: 0.05 }]);
    assert.deepEqual(rule, {
      name: "e",
      kind: "error-rate",
      threshold: 0.05,
      window: "5m",
      severity: "warning",
      minRequests: 10,
    });
    assert.equal(parseWindow("5m"), 300_000);
    assert.equal(parseWindow("2h"), 7_200_000);
  });

  it("rejects bad rules with the field named", () => {
    invalid([{ name: "e", kind: "error-rate", threshold: 5 }], /0\.threshold: error-rate threshold is a share/);
    invalid([{ name: "a", kind: "accuracy", threshold: 0.9 }], /endpoint: accuracy rules name their endpoint/);
    invalid([{ name: "p", kind: "p99-latency", threshold: 0 }], /must be > 0/);
    invalid([{ name: "w", kind: "drift", threshold: 0.5, window: "5 minutes" }], /window/);
    invalid([{ name: "x", kind: "cpu", threshold: 1 }], /kind/);
    invalid([{ name: "x", kind: "drift", threshold: 0.5, typo: 1 }], /typo/);
    const retrain = { tenant: "acme", dataset: "spam", template: "bow" };
    invalid([{ name: "r", kind: "error-rate", threshold: 0.5, retrain }], /retrain: only accuracy rules can retrain/);
    invalid(
      [{ name: "r", kind: "accuracy", endpoint: "spam", threshold: 0.9, retrain: { tenant: "acme" } }],
      /retrain\.dataset/,
    );
    assert.deepEqual(
      parseAlertRules([{ name: "r", kind: "accuracy", endpoint: "spam", threshold: 0.9, retrain }])[0]?.retrain,
      retrain,
    );
    invalid(
      [
        { name: "same", kind: "drift", threshold: 0.5 },
        { name: "same", kind: "budget", threshold: 0.8 },
      ],
      /duplicate name same/,
    );
    assert.throws(() => parseWindow("0m"), /not like 5m/);
  });
});

describe("rule scheduler", () => {
  it("evaluates on its interval until stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "modelport-schedule-"));
    const handle = await openDatabase({ dataDir: dir });
    const clock: Clock = { now: () => T0, monotonic: () => 0 };
    const dispatcher = createAlertDispatcher({ db: handle.db, clock, webhooksFor: async () => [] });
    try {
      const runs: RuleOutcome[][] = [];
      const schedule = scheduleRules({
        intervalMs: 15,
        clock,
        rules: parseAlertRules([{ name: "b", kind: "budget", threshold: 0.5 }]),
        sources: { budgets: { status: async () => [{ tenantId: "ten_a", spentMicros: 9, budgetMicros: 10 }] } },
        alerts: dispatcher,
        onOutcomes: (outcomes) => runs.push(outcomes),
      });
      for (let waited = 0; runs.length < 2 && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      await schedule.stop();
      const count = runs.length;
      assert.ok(count >= 2, `ran ${count} times`);
      assert.equal(runs[0]?.[0]?.firing, true);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(runs.length, count, "no run after stop()");
      const alerts = await dispatcher.list({ tenantId: "ten_a" });
      assert.equal(alerts.length, 1, "one alert however many runs");
      assert.equal(alerts[0]?.occurrences, count);
    } finally {
      await dispatcher.close();
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
