import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Clock } from "../src/core/clock.js";
import { ModelportError } from "../src/core/errors.js";
import { type AlertDispatcher, createAlertDispatcher } from "../src/monitoring/alerts/dispatcher.js";
import { verifyWebhook } from "../src/monitoring/alerts/signature.js";
import {
  createFeedbackStore,
  createQualityChecker,
  type FeedbackStore,
  parseFeedbackBody,
  type RetrainRequest,
} from "../src/monitoring/feedback/index.js";
import { createRequestLogRepository } from "../src/monitoring/request-log/repository.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";
import { startWebhookReceiver, type WebhookReceiver } from "./helpers/webhook-receiver.js";

const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const window = { from: at(0), to: at(3_600_000) };

function fixedClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now, monotonic: () => now, set: (ms) => (now = ms) };
}

const isCode = (code: string) => (error: unknown) => error instanceof ModelportError && error.code === code;

/** Feedback storage and live quality: the same behaviour on SQLite and PostgreSQL. */
function feedbackSuite(dialect: string, open: () => Promise<{ handle: DatabaseHandle; cleanup(): Promise<void> }>) {
  describe(`feedback (${dialect})`, () => {
    let handle: DatabaseHandle;
    let cleanup: () => Promise<void>;
    let store: FeedbackStore;
    const clock = fixedClock(T0 + 7_200_000);

    before(async () => {
      ({ handle, cleanup } = await open());
      store = createFeedbackStore({ db: handle.db, clock });
      // 10 predictions of endpoint "spam" v1 by tenant A in the window, 2 of v2, 1 before the window.
      await store.recordPredictions([
        ...Array.from({ length: 10 }, (_, i) => ({
          requestId: `req_a${i}`,
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t-stable",
          modelVersion: "1",
          predictedLabel: i < 5 ? "spam" : "ham",
          createdAt: at(60_000 * (i + 1)),
        })),
        {
          requestId: "req_v2a",
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t-canary",
          modelVersion: "2",
          predictedLabel: 1,
          createdAt: at(1_000),
        },
        {
          requestId: "req_v2b",
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t-canary",
          modelVersion: "2",
          predictedLabel: 0,
          createdAt: at(2_000),
        },
        {
          requestId: "req_old",
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t-stable",
          modelVersion: "1",
          predictedLabel: "spam",
          createdAt: at(-1_000),
        },
        {
          requestId: "req_b0",
          tenantId: "ten_b",
          endpoint: "spam",
          target: "t-stable",
          modelVersion: "1",
          predictedLabel: "spam",
          createdAt: at(5_000),
        },
      ]);
      // A chat request that only the request log knows (thumbs on a generation).
      await createRequestLogRepository(handle.db).insertMany([
        {
          requestId: "req_chat",
          time: at(30_000),
          tenantId: "ten_a",
          keyId: null,
          endUserHash: null,
          protocol: "openai",
          method: "POST",
          path: "/v1/chat/completions",
          endpoint: "chat",
          target: "t-chat",
          modelVersion: null,
          status: 200,
          errorCode: null,
          latencyUs: 1000,
          overheadUs: 10,
          inputTokens: 3,
          outputTokens: 4,
          costMicros: null,
          cacheHit: false,
          stream: false,
          guardVerdicts: null,
          requestPayload: null,
          responsePayload: null,
        },
      ]);
    });
    after(async () => {
      await cleanup?.();
    });

    it("re-recording a prediction batch inserts nothing twice", async () => {
      await store.recordPredictions([
        {
          requestId: "req_a0",
          tenantId: "ten_a",
          endpoint: "spam",
          target: "t-stable",
          modelVersion: "1",
          predictedLabel: "ham",
          createdAt: at(60_000),
        },
      ]);
      const rows = await handle.db.selectFrom("predictions").selectAll().where("request_id", "=", "req_a0").execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.predicted_label, "spam", "the first recording stands");
    });

    it("rejects feedback without exactly one of label, score, thumbs", async () => {
      await assert.rejects(store.submit({ tenantId: "ten_a", requestId: "req_a0" }), isCode("MP_INVALID_REQUEST"));
      await assert.rejects(
        store.submit({ tenantId: "ten_a", requestId: "req_a0", label: "spam", thumbs: 1 }),
        /exactly one/,
      );
      await assert.rejects(store.submit({ tenantId: "ten_a", requestId: "req_a0", score: Number.NaN }), /finite/);
      await assert.rejects(store.submit({ tenantId: "ten_a", requestId: "req_a0", label: "" }), /label/);
      await assert.rejects(
        store.submit({ tenantId: "ten_a", requestId: "req_a0", thumbs: 2 as unknown as 1 }),
        /thumbs must be/,
      );
    });

    it("answers MP_NOT_FOUND for an unknown request or another tenant's", async () => {
      await assert.rejects(
        store.submit({ tenantId: "ten_a", requestId: "req_nope", label: "spam" }),
        isCode("MP_NOT_FOUND"),
      );
      await assert.rejects(
        store.submit({ tenantId: "ten_b", requestId: "req_a0", label: "spam" }),
        isCode("MP_NOT_FOUND"),
      );
      const stored = await handle.db.selectFrom("feedback").selectAll().execute();
      assert.equal(stored.length, 0, "nothing stored for rejected feedback");
    });

    it("has no accuracy before labels arrive", async () => {
      const quality = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "1", window });
      assert.equal(quality.labeled, 0);
      assert.equal(quality.accuracy, null);
      assert.equal(quality.macroF1, null);
    });

    it("delayed labels move live accuracy and F1; a corrected label updates", async () => {
      // Labels for requests 0..7: 0-4 predicted spam (true spam for 0-3, ham for 4); 5-7 predicted ham (true ham).
      for (let i = 0; i < 8; i++) {
        const receipt = await store.submit({
          tenantId: "ten_a",
          requestId: `req_a${i}`,
          label: i < 4 ? "spam" : "ham",
        });
        assert.equal(receipt.updated, false);
        assert.equal(receipt.kind, "label");
        assert.equal(receipt.endpoint, "spam");
        assert.equal(receipt.modelVersion, "1");
      }
      let quality = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "1", window });
      assert.equal(quality.labeled, 8);
      assert.equal(quality.accuracy, 7 / 8);
      // spam: P=4/5 R=1 F1=8/9; ham: P=1 R=3/4 F1=6/7 → macro (8/9+6/7)/2
      assert.ok(Math.abs((quality.macroF1 ?? 0) - (8 / 9 + 6 / 7) / 2) < 1e-12);

      // The label of request 4 was wrong: it was spam after all.
      const corrected = await store.submit({ tenantId: "ten_a", requestId: "req_a4", label: "spam" });
      assert.equal(corrected.updated, true);
      quality = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "1", window });
      assert.equal(quality.labeled, 8);
      assert.equal(quality.accuracy, 1);
      assert.equal(quality.macroF1, 1);

      // Two late labels that disagree with the model pull accuracy down.
      await store.submit({ tenantId: "ten_a", requestId: "req_a8", label: "spam" });
      await store.submit({ tenantId: "ten_a", requestId: "req_a9", label: "spam" });
      quality = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "1", window });
      assert.equal(quality.labeled, 10);
      assert.equal(quality.accuracy, 0.8);
    });

    it("scopes live quality by version, target, tenant and window", async () => {
      await store.submit({ tenantId: "ten_a", requestId: "req_v2a", label: 1 });
      await store.submit({ tenantId: "ten_a", requestId: "req_v2b", label: "1" });
      await store.submit({ tenantId: "ten_a", requestId: "req_old", label: "ham" });
      await store.submit({ tenantId: "ten_b", requestId: "req_b0", label: "ham" });
      const v2 = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "2", window });
      assert.equal(v2.labeled, 2);
      assert.equal(v2.accuracy, 0.5, "numeric and string labels compare as text");
      const canary = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", target: "t-canary", window });
      assert.equal(canary.labeled, 2);
      const all = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", window });
      assert.equal(all.labeled, 12, "req_old is outside the window");
      const everyTenant = await store.liveQuality({ endpoint: "spam", version: "1", window });
      assert.equal(everyTenant.labeled, 11);
      assert.equal(everyTenant.accuracy, 8 / 11);
    });

    it("keeps thumbs and scores beside a label; thumbs work on request-log-only requests", async () => {
      await store.submit({ tenantId: "ten_a", requestId: "req_a0", thumbs: 1 });
      await store.submit({ tenantId: "ten_a", requestId: "req_a1", thumbs: -1 });
      await store.submit({ tenantId: "ten_a", requestId: "req_a2", thumbs: 1 });
      await store.submit({ tenantId: "ten_a", requestId: "req_a3", score: 0.25 });
      await store.submit({ tenantId: "ten_a", requestId: "req_a5", score: 0.75 });
      const quality = await store.liveQuality({ tenantId: "ten_a", endpoint: "spam", version: "1", window });
      assert.equal(quality.labeled, 10, "the labels are still there");
      assert.equal(quality.thumbs, 3);
      assert.equal(quality.thumbsUpRate, 2 / 3);
      assert.equal(quality.scored, 2);
      assert.equal(quality.meanScore, 0.5);

      const chat = await store.submit({ tenantId: "ten_a", requestId: "req_chat", thumbs: -1 });
      assert.equal(chat.endpoint, "chat");
      assert.equal(chat.target, "t-chat");
      const chatQuality = await store.liveQuality({ tenantId: "ten_a", endpoint: "chat", window });
      assert.equal(chatQuality.labeled, 0);
      assert.equal(chatQuality.thumbs, 1);
      assert.equal(chatQuality.thumbsUpRate, 0);
    });
  });
}

feedbackSuite("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "modelport-feedback-"));
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
if (probe.state !== "ready") reportPostgresUnavailable("feedback (postgres)", probe);
else
  feedbackSuite("postgres", async () => {
    const database: PostgresTestDatabase = await createTestDatabase(probe.adminUrl);
    const handle = await openDatabase({ dataDir: "", databaseUrl: database.url });
    return {
      handle,
      cleanup: async () => {
        await handle.close();
        await database.drop();
      },
    };
  });

describe("POST /v1/feedback body", () => {
  it("accepts a label, a score or thumbs", () => {
    assert.deepEqual(parseFeedbackBody({ request_id: "req_1", label: "spam" }), { requestId: "req_1", label: "spam" });
    assert.deepEqual(parseFeedbackBody({ request_id: "req_1", score: 4.5 }), { requestId: "req_1", score: 4.5 });
    assert.deepEqual(parseFeedbackBody({ request_id: "req_1", thumbs: "down" }), { requestId: "req_1", thumbs: -1 });
    assert.deepEqual(parseFeedbackBody({ request_id: "req_1", thumbs: 1 }), { requestId: "req_1", thumbs: 1 });
  });

  it("rejects bad bodies naming the field", () => {
    const invalid = (body: unknown, param: string) =>
      assert.throws(
        () => parseFeedbackBody(body),
        (error: unknown) =>
          error instanceof ModelportError && error.code === "MP_INVALID_REQUEST" && error.param === param,
      );
    invalid({ label: "spam" }, "request_id");
    invalid({ request_id: "req_1", thumbs: "meh" }, "thumbs");
    invalid({ request_id: "req_1", score: "high" }, "score");
    invalid({ request_id: "req_1", label: "x", extra: 1 }, "extra");
    assert.throws(() => parseFeedbackBody("nope"), /invalid feedback/);
  });
});

interface Received {
  body: string;
  signature: string;
}

describe("live quality threshold", () => {
  let dir: string;
  let handle: DatabaseHandle;
  let receiver: WebhookReceiver | undefined;
  let dispatcher: AlertDispatcher;
  let store: FeedbackStore;
  const received: Received[] = [];
  const retrains: RetrainRequest[] = [];
  const secret = "whsec_feedback_test";
  const clock = fixedClock(T0 + 7_200_000);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-quality-"));
    handle = await openDatabase({ dataDir: dir });
    receiver = await startWebhookReceiver(received);
    const url = receiver.url;
    dispatcher = createAlertDispatcher({
      db: handle.db,
      clock,
      webhooksFor: async (tenantId) => (tenantId === "ten_a" ? [{ id: "whk_test", url, secret }] : []),
      baseDelayMs: 10,
    });
    store = createFeedbackStore({ db: handle.db, clock });
    await store.recordPredictions(
      Array.from({ length: 40 }, (_, i) => ({
        requestId: `req_${i}`,
        tenantId: "ten_a",
        endpoint: "spam",
        target: "t1",
        modelVersion: "3",
        predictedLabel: "spam",
        createdAt: at(1_000 * i),
      })),
    );
  });
  after(async () => {
    await dispatcher?.close();
    await receiver?.close();
    await handle?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const check = () =>
    createQualityChecker({
      store,
      alerts: dispatcher,
      onRetrainRequested: (request) => {
        retrains.push(request);
      },
    }).check({ tenantId: "ten_a", endpoint: "spam", version: "3", window, minAccuracy: 0.9, minLabels: 20 });

  it("decides nothing with too few labels", async () => {
    for (let i = 0; i < 10; i++) await store.submit({ tenantId: "ten_a", requestId: `req_${i}`, label: "ham" });
    const result = await check();
    assert.equal(result.quality.accuracy, 0, "all wrong so far");
    assert.equal(result.breached, false, "but 10 labels < 20");
    assert.equal(received.length, 0);
  });

  it("stays quiet while accuracy is above the threshold", async () => {
    for (let i = 0; i < 10; i++) await store.submit({ tenantId: "ten_a", requestId: `req_${i}`, label: "spam" });
    for (let i = 10; i < 30; i++) await store.submit({ tenantId: "ten_a", requestId: `req_${i}`, label: "spam" });
    const result = await check();
    assert.equal(result.quality.labeled, 30);
    assert.equal(result.quality.accuracy, 1);
    assert.equal(result.breached, false);
    await dispatcher.idle();
    assert.equal(received.length, 0);
    assert.equal(retrains.length, 0);
  });

  it("fires accuracy-low to the webhook and asks for retraining once when labels fall", async () => {
    for (let i = 30; i < 40; i++) await store.submit({ tenantId: "ten_a", requestId: `req_${i}`, label: "ham" });
    const result = await check();
    assert.equal(result.quality.accuracy, 0.75);
    assert.equal(result.breached, true);
    assert.equal(result.fired, true);
    assert.match(result.reasons[0] ?? "", /accuracy 0\.7500 < 0\.9/);
    await dispatcher.idle();
    assert.equal(received.length, 1);
    const delivery = received[0] as Received;
    assert.ok(verifyWebhook(secret, delivery.body, delivery.signature, { nowSeconds: clock.now() / 1000 }), "signed");
    const payload = JSON.parse(delivery.body) as { kind: string; details: { accuracy: number; endpoint: string } };
    assert.equal(payload.kind, "accuracy-low");
    assert.equal(payload.details.accuracy, 0.75);
    assert.equal(payload.details.endpoint, "spam");
    assert.equal(retrains.length, 1);
    assert.equal(retrains[0]?.endpoint, "spam");
    assert.equal(retrains[0]?.version, "3");

    const again = await check();
    assert.equal(again.breached, true);
    assert.equal(again.fired, false, "de-duplicated");
    await dispatcher.idle();
    assert.equal(received.length, 1, "not delivered twice");
    assert.equal(retrains.length, 1, "no second retraining");
  });
});
