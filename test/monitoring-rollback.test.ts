import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Clock } from "../src/core/clock.js";
import { type AlertDispatcher, createAlertDispatcher } from "../src/monitoring/alerts/dispatcher.js";
import { verifyWebhook } from "../src/monitoring/alerts/signature.js";
import { createFeedbackStore } from "../src/monitoring/feedback/index.js";
import { createRequestLogRepository } from "../src/monitoring/request-log/repository.js";
import type { RequestLogEntry } from "../src/monitoring/request-log/types.js";
import { createRollbackGuard, type RollbackGuard } from "../src/monitoring/rollback/index.js";
import { createRequestStatsSource } from "../src/monitoring/rules/index.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";
import { startWebhookReceiver, type WebhookReceiver } from "./helpers/webhook-receiver.js";

const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

let sequence = 0;
/** `count` requests of one target, `errors` of them 5xx, spread over the first minutes after T0. */
function traffic(endpoint: string, target: string, count: number, errors: number, latencyMs = 10): RequestLogEntry[] {
  return Array.from({ length: count }, (_, i) => {
    sequence++;
    const failed =
      i % Math.max(1, Math.floor(count / Math.max(errors, 1))) === 0 &&
      i / Math.floor(count / Math.max(errors, 1)) < errors;
    return {
      requestId: `req_${String(sequence).padStart(6, "0")}`,
      time: at(10_000 + i * 500),
      tenantId: "ten_a",
      keyId: null,
      endUserHash: null,
      protocol: "oip",
      method: "POST",
      path: `/v2/models/${endpoint}/infer`,
      endpoint,
      target,
      modelVersion: target,
      status: failed ? 500 : 200,
      errorCode: failed ? "MP_RUNTIME_ERROR" : null,
      latencyUs: latencyMs * 1_000 + (i % 7) * 100,
      overheadUs: 10,
      inputTokens: null,
      outputTokens: null,
      costMicros: null,
      cacheHit: false,
      stream: false,
      guardVerdicts: null,
      requestPayload: null,
      responsePayload: null,
    };
  });
}

const errorCount = (entries: RequestLogEntry[]) => entries.filter((entry) => entry.status >= 500).length;

function rollbackSuite(dialect: string, open: () => Promise<{ handle: DatabaseHandle; cleanup(): Promise<void> }>) {
  describe(`auto-rollback (${dialect})`, () => {
    let handle: DatabaseHandle;
    let cleanup: () => Promise<void>;
    let receiver: WebhookReceiver | undefined;
    let dispatcher: AlertDispatcher;
    let guard: RollbackGuard;
    const received: { body: string; signature: string }[] = [];
    const secret = "whsec_rollback";
    const weights = new Map<string, number>();
    const weightCalls: string[] = [];
    const clock: Clock = { now: () => T0 + 300_000, monotonic: () => 0 };

    before(async () => {
      ({ handle, cleanup } = await open());
      receiver = await startWebhookReceiver(received);
      const url = receiver.url;
      dispatcher = createAlertDispatcher({
        db: handle.db,
        clock,
        webhooksFor: async (tenantId) => (tenantId === "ten_a" ? [{ id: "whk_rb", url, secret }] : []),
        baseDelayMs: 10,
      });
      const bad = traffic("iris", "canary", 100, 30);
      const stable = traffic("iris", "stable", 300, 3);
      assert.equal(errorCount(bad), 30, "the canary fails 30 %");
      assert.equal(errorCount(stable), 3, "stable fails 1 %");
      const log = createRequestLogRepository(handle.db);
      const entries = [
        ...bad,
        ...stable,
        // Healthy: 2 % vs 1 %, within the 2-point allowance.
        ...traffic("iris-ok", "canary", 100, 2, 12),
        ...traffic("iris-ok", "stable", 300, 3),
        // Slow: 2× the stable p99.
        ...traffic("iris-slow", "canary", 100, 0, 20),
        ...traffic("iris-slow", "stable", 300, 0, 10),
        // Thin: 30 % errors on 10 requests decides nothing.
        ...traffic("iris-thin", "canary", 10, 3),
        ...traffic("iris-thin", "stable", 300, 3),
        // Accuracy: error rates equal, canary labels worse.
        ...traffic("spam", "canary", 60, 0),
        ...traffic("spam", "stable", 60, 0),
      ];
      // SQLite caps bound variables per statement: insert in chunks.
      for (let start = 0; start < entries.length; start += 500) await log.insertMany(entries.slice(start, start + 500));
      const feedback = createFeedbackStore({ db: handle.db, clock });
      const spamRows = await handle.db
        .selectFrom("request_log")
        .select(["request_id", "target", "time"])
        .where("endpoint", "=", "spam")
        .orderBy("request_id")
        .execute();
      await feedback.recordPredictions(
        spamRows.map((row) => ({
          requestId: row.request_id,
          tenantId: "ten_a",
          endpoint: "spam",
          target: row.target,
          modelVersion: row.target,
          predictedLabel: "spam",
          createdAt: row.time,
        })),
      );
      const seen = { canary: 0, stable: 0 };
      for (const row of spamRows) {
        const target = row.target as "canary" | "stable";
        const index = seen[target]++;
        // stable: 57/60 right (0.95); canary: 51/60 right (0.85).
        const wrong = target === "stable" ? index < 3 : index < 9;
        await feedback.submit({ tenantId: "ten_a", requestId: row.request_id, label: wrong ? "ham" : "spam" });
      }
      for (const endpoint of ["iris", "iris-ok", "iris-slow", "iris-thin", "spam"])
        weights.set(`${endpoint}/canary`, 10);
      guard = createRollbackGuard({
        db: handle.db,
        clock,
        alerts: dispatcher,
        requests: createRequestStatsSource(handle.db),
        quality: feedback,
        setTargetWeight: (endpoint, target, weight) => {
          weightCalls.push(`${endpoint}/${target}=${weight}`);
          weights.set(`${endpoint}/${target}`, weight);
        },
      });
    });
    after(async () => {
      await dispatcher?.close();
      await receiver?.close();
      await cleanup?.();
    });

    const pair = (endpoint: string) => ({ tenantId: "ten_a", endpoint, canary: "canary", stable: "stable" });

    it("rolls back a canary failing 30 % against a stable at 1 %: weight 0, event, alert", async () => {
      const result = await guard.check(pair("iris"));
      assert.ok(result && !("error" in result));
      assert.equal(result.rollback, true);
      assert.equal(result.alreadyRolledBack, false);
      assert.match(result.reasons.join(), /error rate 30\.00% > stable 1\.00% \+ 2\.00%/);
      assert.equal(weights.get("iris/canary"), 0);
      const events = await guard.events({ endpoint: "iris" });
      assert.equal(events.length, 1);
      assert.equal(events[0]?.target, "canary");
      assert.equal(events[0]?.stableTarget, "stable");
      assert.equal(events[0]?.metrics.canary.requests.errors, 30);
      await dispatcher.idle();
      assert.equal(received.length, 1);
      const delivery = received[0] as { body: string; signature: string };
      assert.ok(verifyWebhook(secret, delivery.body, delivery.signature, { nowSeconds: clock.now() / 1000 }));
      const payload = JSON.parse(delivery.body) as { kind: string; details: { canary: string; eventId: string } };
      assert.equal(payload.kind, "canary-rolled-back");
      assert.equal(payload.details.eventId, events[0]?.id);
    });

    it("does not flap: a rolled-back canary stays at 0 without new events or alerts", async () => {
      weights.set("iris/canary", 10); // e.g. a config reload restored the weight
      const again = await guard.check(pair("iris"));
      assert.ok(again && !("error" in again));
      assert.equal(again.alreadyRolledBack, true);
      assert.equal(weights.get("iris/canary"), 0, "held at 0");
      assert.equal((await guard.events({ endpoint: "iris" })).length, 1);
      await dispatcher.idle();
      assert.equal(received.length, 1);
      assert.equal(await guard.isRolledBack("iris", "canary"), true);
    });

    it("an operator reset releases it; a canary still failing is rolled back again", async () => {
      assert.equal(await guard.reset("iris", "canary", "usr_ops"), true);
      assert.equal(await guard.reset("iris", "canary", "usr_ops"), false, "nothing left to reset");
      assert.equal(await guard.isRolledBack("iris", "canary"), false);
      weights.set("iris/canary", 10);
      const result = await guard.check(pair("iris"));
      assert.equal(result?.rollback, true);
      assert.equal(result?.alreadyRolledBack, false);
      const events = await guard.events({ endpoint: "iris" });
      assert.equal(events.length, 2);
      // Same clock reading for both: tell them apart by their reset state.
      assert.equal(events.filter((event) => event.resetBy === "usr_ops").length, 1);
      assert.equal(events.filter((event) => event.resetAt === null).length, 1, "one active rollback");
      await dispatcher.idle();
      assert.equal(received.length, 2, "a new rollback is a new alert");
    });

    it("leaves a healthy canary alone", async () => {
      const before = weightCalls.length;
      const result = await guard.check(pair("iris-ok"));
      assert.ok(result && !("error" in result));
      assert.equal(result.rollback, false);
      assert.deepEqual(result.reasons, []);
      assert.equal(result.health?.canary.requests.errorRate, 0.02);
      assert.equal(weights.get("iris-ok/canary"), 10);
      assert.equal(weightCalls.length, before, "the weight was not touched");
      assert.equal((await guard.events({ endpoint: "iris-ok" })).length, 0);
    });

    it("rolls back on latency and on accuracy; waits on thin traffic", async () => {
      const results = await guard.checkAll([pair("iris-slow"), pair("spam"), pair("iris-thin")]);
      const [slow, spam, thin] = results as Array<{ rollback: boolean; reasons: string[]; undecided: string[] }>;
      assert.equal(slow?.rollback, true);
      assert.match(slow?.reasons.join() ?? "", /p99 latency 20\.\d ms > 1\.5 × stable 10\.\d ms/);
      assert.equal(spam?.rollback, true);
      assert.match(spam?.reasons.join() ?? "", /accuracy 0\.8500 < stable 0\.9500 − 0\.05/);
      assert.equal(thin?.rollback, false);
      assert.match(thin?.undecided.join() ?? "", /10 canary \/ 300 stable requests/);
      assert.equal(weights.get("iris-slow/canary"), 0);
      assert.equal(weights.get("spam/canary"), 0);
      assert.equal(weights.get("iris-thin/canary"), 10);
    });

    it("reports a failing weight port and retries it on the next check", async () => {
      const failing = createRollbackGuard({
        db: handle.db,
        clock,
        alerts: dispatcher,
        requests: createRequestStatsSource(handle.db),
        slo: { maxErrorRateIncrease: 0 },
        setTargetWeight: () => {
          throw new Error("router unavailable");
        },
      });
      const [result] = await failing.checkAll([pair("iris-ok")]);
      assert.deepEqual(result, { endpoint: "iris-ok", canary: "canary", error: "router unavailable" });
      assert.equal(await guard.isRolledBack("iris-ok", "canary"), true, "the event was recorded first");
      const retried = await guard.check(pair("iris-ok"));
      assert.equal(retried?.alreadyRolledBack, true);
      assert.equal(weights.get("iris-ok/canary"), 0, "the next check applied the weight");
    });
  });
}

rollbackSuite("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "modelport-rollback-"));
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
if (probe.state !== "ready") reportPostgresUnavailable("auto-rollback (postgres)", probe);
else
  rollbackSuite("postgres", async () => {
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
