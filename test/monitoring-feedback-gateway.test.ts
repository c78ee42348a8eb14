import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyWebhook } from "../src/monitoring/alerts/signature.js";
import { openDatabase } from "../src/storage/database.js";
import { createDatasetStore } from "../src/training/datasets/dataset-store.js";
import { createModelRegistry } from "../src/training/registry/index.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import { startWebhookReceiver, type WebhookDelivery, type WebhookReceiver } from "./helpers/webhook-receiver.js";
import { spamTrainingRows, writeSpamArtifact } from "./registry-artifacts.js";

const webhookSecret = "feedback-webhook-secret-0123456789";

/**
 * Feedback end to end through a real `modelport serve` composition: a registry model answers OIP v2
 * requests, the gateway records each predicted label, delayed labels sent to POST /v1/feedback move
 * the live accuracy the admin API reports, and the accuracy rule delivers a signed alert to a
 * webhook receiver on loopback once accuracy falls below its threshold.
 */
describe("feedback through the gateway", () => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver | undefined;
  const deliveries: WebhookDelivery[] = [];
  const served: { requestId: string; label: string }[] = [];

  before(async () => {
    receiver = await startWebhookReceiver(deliveries);
    gateway = await startTestGateway(
      {
        endpoints: {
          "spam-filter": { kind: "predict", targets: [{ model: "registry:spam-filter@production" }] },
        },
        alerts: {
          webhooks: [{ url: receiver.url, secret: webhookSecret }],
          rules: [
            {
              name: "spam-accuracy",
              kind: "accuracy",
              endpoint: "spam-filter",
              window: "1h",
              threshold: 0.8,
              minRequests: 10,
              retrain: { tenant: "acme", dataset: "spam-labels", template: "bow", hyperparameters: { epochs: 1 } },
            },
          ],
          evaluateEveryMs: 200,
        },
      },
      {
        prepare: async (dataDir) => {
          const handle = await openDatabase({ dataDir });
          try {
            const registry = createModelRegistry({ db: handle.db, dialect: handle.dialect, dataDir });
            await writeSpamArtifact(join(dataDir, "artifact"));
            await registry.register({ name: "spam-filter", artifact: join(dataDir, "artifact") });
            await registry.promote("spam-filter", 1, "production");
          } finally {
            await handle.close();
          }
        },
      },
    );
  });
  before(async () => {
    // The labelled data a retraining run would use, in the tenant's dataset store.
    const handle = await openDatabase({ dataDir: gateway.dataDir });
    try {
      const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir: gateway.dataDir });
      const rows = spamTrainingRows.flatMap((row) => Array.from({ length: 10 }, () => [...row]));
      await datasets.import(gateway.tenantId, {
        name: "spam-labels",
        label: "label",
        types: { text: "text" },
        source: { kind: "table", table: { columns: ["text", "label"], rows } },
      });
    } finally {
      await handle.close();
    }
  });
  after(async () => {
    await gateway?.close();
    await receiver?.close();
  });

  async function quality(): Promise<{ labeled: number; accuracy: number | null; macroF1: number | null }> {
    const response = await gateway.admin(`/admin/v1/tenants/${gateway.tenantId}/quality?endpoint=spam-filter`);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { labeled: number; accuracy: number | null; macroF1: number | null };
  }

  async function feedback(requestId: string, label: string): Promise<Response> {
    return gateway.call("/v1/feedback", { request_id: requestId, label });
  }

  it("records the label of every served prediction", async () => {
    const texts = ["win free money now", "lunch tomorrow at noon"];
    for (let i = 0; i < 20; i++) {
      const response = await gateway.call("/v2/models/spam-filter/infer", {
        inputs: [{ name: "text", datatype: "BYTES", shape: [1], data: [texts[i % 2]] }],
      });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as { outputs: { name: string; data: string[] }[] };
      const label = body.outputs.find((output) => output.name === "label")?.data[0];
      assert.ok(label === "spam" || label === "ham", `label ${label}`);
      served.push({ requestId: response.headers.get("x-request-id") ?? "", label });
    }
    assert.deepEqual(
      served.slice(0, 2).map((entry) => entry.label),
      ["spam", "ham"],
    );
    const before = await quality();
    assert.equal(before.labeled, 0);
    assert.equal(before.accuracy, null, "no accuracy before any label");
  });

  it("moves live accuracy as delayed labels arrive", async () => {
    // Ten labels that agree with the model: accuracy 1.
    for (const entry of served.slice(0, 10)) {
      const response = await feedback(entry.requestId, entry.label);
      assert.equal(response.status, 200, await response.clone().text());
    }
    let live = await quality();
    assert.equal(live.labeled, 10);
    assert.equal(live.accuracy, 1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(deliveries.length, 0, "no alert while accuracy holds");

    // Ten that disagree: accuracy 0.5, below the rule's 0.8.
    for (const entry of served.slice(10)) {
      const response = await feedback(entry.requestId, entry.label === "spam" ? "ham" : "spam");
      assert.equal(response.status, 200);
    }
    live = await quality();
    assert.equal(live.labeled, 20);
    assert.equal(live.accuracy, 0.5);
    assert.equal(live.macroF1, 0.5);

    // A corrected label replaces the earlier one instead of counting twice.
    const corrected = served[10] as { requestId: string; label: string };
    const response = await feedback(corrected.requestId, corrected.label);
    assert.equal(((await response.json()) as { updated: boolean }).updated, true);
    live = await quality();
    assert.equal(live.labeled, 20);
    assert.equal(live.accuracy, 0.55);
  });

  it("delivers a signed accuracy alert to the webhook", async () => {
    const deadline = Date.now() + 10_000;
    while (deliveries.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(deliveries.length, 1, "one alert");
    const delivery = deliveries[0] as WebhookDelivery;
    assert.ok(verifyWebhook(webhookSecret, delivery.body, delivery.signature), "HMAC signature verifies");
    const alert = JSON.parse(delivery.body) as { kind: string; details: { endpoint: string; accuracy: number } };
    assert.equal(alert.kind, "accuracy-low");
    assert.equal(alert.details.endpoint, "spam-filter");
    assert.ok(alert.details.accuracy < 0.8);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(deliveries.length, 1, "a lasting breach is one alert, not one per evaluation");
  });

  it("queues the rule's retraining job once, on the tenant's newest dataset version", async () => {
    const response = await gateway.admin("/admin/v1/training/jobs");
    assert.equal(response.status, 200);
    const jobs = (await response.json()) as { data: { id: string; status: string }[] };
    assert.equal(jobs.data.length, 1, JSON.stringify(jobs.data));
    const job = jobs.data[0] as { id: string; status: string };
    assert.ok(["queued", "running", "succeeded"].includes(job.status), JSON.stringify(job));
    assert.match(JSON.stringify(job), /spam-labels/);
    assert.match(JSON.stringify(job), /"bow"/);
  });

  it("exposes per-version latency, errors by code and queue depths on /metrics", async () => {
    const bad = await gateway.call("/v2/models/spam-filter/infer", {
      inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1] }],
    });
    assert.equal(bad.status, 400);
    const response = await gateway.admin("/metrics");
    assert.equal(response.status, 200);
    const text = await response.text();
    const count =
      /modelport_target_request_duration_seconds_count\{endpoint="spam-filter",target="([^"]+)",version="1"\} (\d+)/.exec(
        text,
      );
    assert.ok(count, "latency histogram labelled with the registry version");
    assert.ok(Number(count[2]) >= 20, `${count[2]} observations`);
    assert.match(text, /modelport_errors_total\{endpoint="spam-filter",code="MP_INVALID_REQUEST"\} 1\b/);
    for (const queue of ["ledger", "request-log", "predictions"])
      assert.match(text, new RegExp(`modelport_queue_depth\\{queue="${queue}"\\} \\d+`), queue);
  });

  it("refuses feedback for unknown requests and bad bodies, and bad quality queries", async () => {
    const unknown = await feedback("req_does_not_exist", "spam");
    assert.equal(unknown.status, 404);
    const bad = await gateway.call("/v1/feedback", { request_id: served[0]?.requestId, label: "spam", thumbs: 1 });
    assert.equal(bad.status, 400);
    const missing = await gateway.admin(`/admin/v1/tenants/${gateway.tenantId}/quality`);
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /endpoint/);
    const badTime = await gateway.admin(
      `/admin/v1/tenants/${gateway.tenantId}/quality?endpoint=spam-filter&from=yesterday`,
    );
    assert.equal(badTime.status, 400);
  });
});

describe("retraining rules in the config", () => {
  it("refuse to start when the retraining request could never be queued, closing what was opened", async () => {
    let dataDir = "";
    await assert.rejects(
      startTestGateway(
        {
          alerts: {
            rules: [
              {
                name: "bad-retrain",
                kind: "accuracy",
                endpoint: "spam-filter",
                threshold: 0.8,
                retrain: { tenant: "acme", dataset: "spam", template: "decision-tree" },
              },
            ],
          },
        },
        {
          prepare: async (directory) => {
            dataDir = directory;
          },
        },
      ),
      (error: Error & { code?: string }) =>
        error.code === "MP_CONFIG_INVALID" && /alerts\.rules\[bad-retrain\]\.retrain\.template/.test(error.message),
    );
    // The half-started server opened its database and journals in the data dir; none stay open.
    const openInDataDir = readdirSync("/proc/self/fd").flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return target.startsWith(dataDir) ? [target] : [];
      } catch {
        return [];
      }
    });
    assert.ok(dataDir !== "");
    assert.deepEqual(openInDataDir, [], "no file of the data dir is still open");
  });
});
