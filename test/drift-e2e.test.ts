import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { verifyWebhook } from "../src/monitoring/alerts/signature.js";
import { parseReferenceProfile } from "../src/monitoring/drift/index.js";
import { openDatabase } from "../src/storage/database.js";
import { createSeededRandom } from "../src/training/datasets/seeded-random.js";
import { createModelRegistry } from "../src/training/registry/index.js";
import { trainModel } from "../src/training/trainers/index.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import { openTrainingBench, type TrainingBench, tabularTable } from "./training-helpers.js";

/**
 * Done-when of live drift: a model trained by the real trainer (its reference profile written from
 * the training split) is registered and served through `registry:NAME@ALIAS` by the real server;
 * traffic like the training data shows no drift, shifted traffic does, and the drift-detected
 * alert reaches a real webhook receiver on loopback with a valid HMAC signature.
 */

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/modelport`, deliveries, server };
}

/** OIP v2 raw inputs of the tabular model: x1, x2 (FP32) and color (BYTES); `shift` moves the live data. */
function inferBody(rows: number, seed: string, shift: number) {
  const random = createSeededRandom(seed);
  const x1 = Array.from({ length: rows }, () => random.uniform(-1, 1) + shift);
  const x2 = Array.from({ length: rows }, () => random.uniform(-1, 1) + shift);
  const color = x1.map((_, i) => (shift === 0 ? (["red", "green", "blue"][i % 3] as string) : "blue"));
  return {
    inputs: [
      { name: "x1", datatype: "FP32", shape: [rows], data: x1 },
      { name: "x2", datatype: "FP32", shape: [rows], data: x2 },
      { name: "color", datatype: "BYTES", shape: [rows], data: color },
    ],
  };
}

interface CheckResponse {
  endpoint: string;
  results: {
    status: string;
    rows: number;
    windowId: string;
    version: number;
    alert?: { id: string; isNew: boolean };
    record?: {
      id: string;
      datasetDrift: boolean;
      driftShare: number;
      report: { columns: { name: string; drift: boolean }[] };
    };
  }[];
}

describe("live drift on a deployed registry model (real trainer, real server, real webhook)", () => {
  const secret = "whsec_drift_e2e_0123456789abcdef";
  let bench: TrainingBench;
  let gateway: TestGateway;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let artifact: string;

  const infer = async (rows: number, seed: string, shift: number) => {
    const response = await gateway.call("/v2/models/scorer/infer", inferBody(rows, seed, shift));
    const body = (await response.json()) as { model_version: string; outputs: { name: string; data: unknown[] }[] };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.model_version, "1");
    return body;
  };
  const check = async (body: unknown = {}) => {
    const response = await gateway.admin("/admin/v1/endpoints/scorer/drift/check", {
      method: "POST",
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as CheckResponse;
    assert.equal(response.status, 200, JSON.stringify(json));
    return json;
  };

  before(async () => {
    receiver = await startReceiver();
    bench = await openTrainingBench();
    const dataset = await bench.load("tabular", tabularTable(300, 5));
    artifact = join(bench.dataDir, "scorer-artifact");
    await trainModel({
      dataset,
      template: "mlp",
      seed: 3,
      hyperparameters: { epochs: 8, hidden: [8], learningRate: 0.02 },
      outputDir: artifact,
      checkpoints: false,
    });
    gateway = await startTestGateway(
      {
        endpoints: { scorer: { kind: "predict", targets: [{ model: "registry:scorer@production" }] } },
        alerts: { webhooks: [{ url: receiver.url, secret }] },
        drift: { minRows: 100, checkEveryMs: 3_600_000 },
      },
      {
        prepare: async (dataDir) => {
          const handle = await openDatabase({ dataDir });
          try {
            const registry = createModelRegistry({ db: handle.db, dialect: handle.dialect, dataDir });
            const version = await registry.register({ name: "scorer", artifact });
            assert.equal(version.referenceProfile?.source, "artifact");
            await registry.promote("scorer", version.version, "production");
          } finally {
            await handle.close();
          }
        },
      },
    );
  });
  after(async () => {
    await gateway?.close();
    await bench?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
    if (artifact) await rm(artifact, { recursive: true, force: true });
  });

  it("the trainer writes the training split's profile: raw features by schema type and the predictions", async () => {
    const profile = parseReferenceProfile(JSON.parse(await readFile(join(artifact, "reference-profile.json"), "utf8")));
    assert.equal(profile.rows, 210, "the training split (70% of 300 rows)");
    assert.deepEqual(profile.features, [
      { name: "x1", type: "numeric" },
      { name: "x2", type: "numeric" },
      { name: "color", type: "categorical" },
    ]);
    assert.deepEqual(profile.prediction, { name: "label", type: "categorical" });
    const label = profile.columns.find((column) => column.name === "label");
    assert.equal(label?.summary.kind, "categorical");
    const counts = label?.summary.kind === "categorical" ? label.summary.counts : {};
    assert.deepEqual(Object.keys(counts).sort(), ["no", "yes"]);
    assert.equal((counts.no ?? 0) + (counts.yes ?? 0), 210);
  });

  it("unshifted traffic: no drift; shifted traffic: drift, and a signed drift-detected alert on the webhook", async () => {
    for (let batch = 0; batch < 10; batch++) await infer(20, `calm-${batch}`, 0);
    const calm = await check({ rotate: true });
    assert.equal(calm.results.length, 1);
    const [calmResult] = calm.results;
    assert.equal(calmResult?.status, "checked");
    assert.equal(calmResult?.rows, 200);
    assert.equal(calmResult?.version, 1);
    assert.equal(calmResult?.record?.datasetDrift, false, JSON.stringify(calmResult?.record?.report.columns));
    assert.deepEqual(
      calmResult?.record?.report.columns.map((column) => column.name),
      ["x1", "x2", "color", "label"],
    );
    assert.equal(calmResult?.alert, undefined);
    assert.equal(receiver.deliveries.length, 0);

    for (let batch = 0; batch < 10; batch++) await infer(20, `shifted-${batch}`, 2);
    const shifted = await check();
    const [shiftedResult] = shifted.results;
    assert.equal(shiftedResult?.status, "checked");
    assert.equal(shiftedResult?.rows, 200, "only the new window's rows");
    assert.notEqual(shiftedResult?.windowId, calmResult?.windowId);
    assert.equal(shiftedResult?.record?.datasetDrift, true);
    const drifted = shiftedResult?.record?.report.columns.filter((column) => column.drift).map((column) => column.name);
    assert.ok(drifted?.includes("x1") && drifted.includes("x2") && drifted.includes("color"), String(drifted));
    assert.equal(shiftedResult?.alert?.isNew, true);

    const deadline = Date.now() + 10_000;
    while (receiver.deliveries.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.equal(receiver.deliveries.length, 1);
    const delivery = receiver.deliveries[0] as Delivery;
    const signature = String(delivery.headers["x-modelport-signature"]);
    assert.equal(verifyWebhook(secret, delivery.body, signature), true, "HMAC-SHA256 over t.body with the secret");
    assert.equal(verifyWebhook(secret, `${delivery.body} `, signature), false, "a changed body fails");
    assert.equal(verifyWebhook("whsec_someone_else_0123456789", delivery.body, signature), false);
    const event = JSON.parse(delivery.body) as {
      id: string;
      kind: string;
      tenantId: string | null;
      details: { endpoint: string; model: string; version: number; windowId: string; reportId: string };
    };
    assert.equal(event.kind, "drift-detected");
    assert.equal(event.id, shiftedResult?.alert?.id);
    assert.equal(delivery.headers["x-modelport-event-id"], event.id);
    assert.equal(event.tenantId, null, "an operator alert");
    assert.equal(event.details.endpoint, "scorer");
    assert.equal(event.details.model, "scorer");
    assert.equal(event.details.version, 1);
    assert.equal(event.details.windowId, shiftedResult?.windowId);
    assert.equal(event.details.reportId, shiftedResult?.record?.id);

    // The same window drifting again is the same alert: nothing new is delivered.
    await infer(20, "shifted-more", 2);
    const again = await check();
    assert.equal(again.results[0]?.alert?.id, event.id);
    assert.equal(again.results[0]?.alert?.isNew, false);

    const listed = await gateway.admin("/admin/v1/endpoints/scorer/drift?limit=5");
    const view = (await listed.json()) as {
      windows: { windowId: string; rows: number; version: number }[];
      reports: { id: string; datasetDrift: boolean; alertId: string | null }[];
    };
    assert.equal(listed.status, 200);
    assert.deepEqual(view.windows, [{ ...view.windows[0], windowId: shiftedResult?.windowId, rows: 220, version: 1 }]);
    assert.deepEqual(
      view.reports.map((report) => [report.datasetDrift, report.alertId]),
      [
        [true, event.id],
        [true, event.id],
        [false, null],
      ],
    );
    assert.equal(receiver.deliveries.length, 1);

    const metrics = await (await gateway.admin("/metrics")).text();
    assert.match(metrics, /modelport_drift_share\{endpoint="scorer",model="scorer",version="1"\} 1\b/);
  });

  it("is operator-only and names unknown endpoints", async () => {
    const keyResponse = await gateway.admin(`/admin/v1/tenants/${gateway.tenantId}/keys`, {
      method: "POST",
      body: JSON.stringify({ scopes: ["admin"], role: "owner", name: "owner-key" }),
    });
    const { key } = (await keyResponse.json()) as { key: string };
    for (const [method, path] of [
      ["GET", "/admin/v1/endpoints/scorer/drift"],
      ["POST", "/admin/v1/endpoints/scorer/drift/check"],
    ] as const) {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(method === "POST" ? { body: "{}" } : {}),
      });
      assert.equal(response.status, 403, `${method} ${path}`);
    }
    const unknown = await gateway.admin("/admin/v1/endpoints/nope/drift");
    assert.equal(unknown.status, 404);
    const badBody = await gateway.admin("/admin/v1/endpoints/scorer/drift/check", {
      method: "POST",
      body: JSON.stringify({ rotate: "yes" }),
    });
    assert.equal(badBody.status, 400);
  });
});
