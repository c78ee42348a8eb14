import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveSettings } from "../src/config/settings.js";
import { startServer } from "../src/server/start-server.js";
import { openDatabase } from "../src/storage/database.js";
import { createDatasetStore } from "../src/training/datasets/dataset-store.js";
import type { TestGateway } from "./helpers/gateway.js";
import { tabularTable } from "./training-helpers.js";

/** One Server-Sent Event as it arrived, with the time it arrived. */
export interface SseEvent {
  event: string;
  data: unknown;
  at: number;
}

/**
 * Reads an SSE response with the HTTP client's streaming body, event by event as the bytes
 * arrive, until the server ends the stream; `comments` counts keep-alive lines.
 */
export async function readEventStream(response: Response): Promise<{ events: SseEvent[]; comments: number }> {
  assert.ok(response.body, "a streamed body");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let comments = 0;
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      if (block.startsWith(":")) {
        comments++;
        continue;
      }
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(block)?.[1];
      events.push({ event, data: data === undefined ? null : JSON.parse(data), at: Date.now() });
    }
  }
  assert.equal(buffer.trim(), "", "the stream ends on an event boundary");
  return { events, comments };
}

/** Imports a small tabular dataset (x1, x2, color → label) for the gateway's `acme` tenant. */
export async function importTabularDataset(gateway: TestGateway, name: string, databaseUrl?: string): Promise<void> {
  // A second connection to the server's own database, as `modelport datasets import` would open.
  const handle = await openDatabase({ dataDir: gateway.dataDir, databaseUrl });
  try {
    const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir: gateway.dataDir });
    await datasets.import(gateway.tenantId, { name, source: { kind: "table", table: tabularTable(240) } });
  } finally {
    await handle.close();
  }
}

interface JobView {
  id: string;
  runId: string;
  tenantId: string;
  status: string;
  dataset: string;
  template: string;
  seed: number;
  error: string | null;
  result: { runId: string; metrics: Record<string, number>; bestEpoch: number } | null;
}

interface EpochEvent {
  phase: string;
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number | null;
  metrics: Record<string, number>;
  runId: string;
}

/**
 * Submits a 3-epoch MLP job over the admin API, follows its event stream to the end, and checks
 * the contract: epochs in order with metrics, a final `succeeded` status with the run id, a late
 * subscriber getting the final status at once, and the job and its run in the list/show routes.
 */
export async function trainOverAdminApi(gateway: TestGateway, dataset: string): Promise<JobView> {
  const submitted = await gateway.admin("/admin/v1/training/jobs", {
    method: "POST",
    body: JSON.stringify({
      dataset,
      template: "mlp",
      hyperparameters: { epochs: 3, patience: 0, batchSize: 32 },
      seed: 5,
      name: "api-mlp",
      tenant: "acme",
    }),
  });
  const job = (await submitted.json()) as JobView;
  assert.equal(submitted.status, 201, JSON.stringify(job));
  assert.match(job.id, /^run_/);
  assert.equal(job.runId, job.id, "the job id is the run id");
  assert.equal(job.tenantId, gateway.tenantId);
  assert.match(job.dataset, new RegExp(`^${dataset}@[0-9a-f]{64}$`));
  assert.ok(["queued", "running"].includes(job.status), job.status);

  const stream = await gateway.admin(`/admin/v1/training/jobs/${job.id}/events`);
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
  const { events } = await readEventStream(stream);

  const first = events[0];
  assert.equal(first?.event, "status");
  const epochs = events.filter((event) => event.event === "epoch").map((event) => event.data as EpochEvent);
  assert.deepEqual(
    epochs.map((epoch) => epoch.epoch),
    [1, 2, 3],
    "every epoch, in order",
  );
  for (const epoch of epochs) {
    assert.equal(epoch.epochs, 3);
    assert.equal(epoch.runId, job.id);
    assert.ok(Number.isFinite(epoch.loss) && epoch.loss > 0, `loss ${epoch.loss}`);
    assert.ok(epoch.valLoss !== null && Number.isFinite(epoch.valLoss));
    const accuracy = epoch.metrics.val_accuracy;
    assert.ok(accuracy !== undefined && accuracy >= 0 && accuracy <= 1, `val_accuracy ${accuracy}`);
  }
  const last = events[events.length - 1];
  assert.equal(last?.event, "status", "the stream ends with the final status");
  const final = last?.data as JobView;
  assert.equal(final.status, "succeeded", final.error ?? "");
  assert.equal(final.result?.runId, job.id);
  assert.ok((final.result?.metrics.accuracy ?? 0) > 0.8, `test accuracy ${final.result?.metrics.accuracy}`);
  const lastEpochIndex = events.map((event) => event.event).lastIndexOf("epoch");
  assert.equal(lastEpochIndex < events.length - 1, true, "the final status comes after the last epoch");

  // A client connecting after the end gets the final status at once, and the stream ends.
  const late = await readEventStream(await gateway.admin(`/admin/v1/training/jobs/${job.id}/events`));
  assert.deepEqual(
    late.events.map((event) => [event.event, (event.data as JobView).status]),
    [["status", "succeeded"]],
  );

  const shown = (await (await gateway.admin(`/admin/v1/training/jobs/${job.id}`)).json()) as JobView;
  assert.equal(shown.status, "succeeded");
  assert.deepEqual(shown.result, final.result);
  const listed = (await (await gateway.admin("/admin/v1/training/jobs?status=succeeded&tenant=acme")).json()) as {
    data: JobView[];
  };
  assert.ok(listed.data.some((entry) => entry.id === job.id));

  const run = (await (await gateway.admin(`/admin/v1/runs/${job.id}?tenant=acme`)).json()) as {
    run: { status: string; name: string; params: Record<string, unknown> };
    metrics: Record<string, { step: number }[]>;
    artifacts: { path: string }[];
  };
  assert.equal(run.run.status, "succeeded");
  assert.equal(run.run.name, "api-mlp");
  assert.deepEqual(run.run.params, { template: "mlp", seed: 5, epochs: 3, patience: 0, batchSize: 32 });
  assert.deepEqual(
    run.metrics.loss?.map((point) => point.step),
    [1, 2, 3],
  );
  assert.ok(run.artifacts.some((artifact) => artifact.path === "model.json"));
  const runs = (await (await gateway.admin("/admin/v1/runs?tenant=acme&status=succeeded")).json()) as {
    data: { id: string }[];
  };
  assert.ok(runs.data.some((entry) => entry.id === job.id));
  return final;
}

/** Reads one gauge sample from the Prometheus text of /metrics. */
export async function gaugeValue(gateway: TestGateway, sample: string): Promise<number | undefined> {
  const text = await (await gateway.admin("/metrics")).text();
  const line = text.split("\n").find((entry) => entry.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/**
 * Jobs survive a restart: a job is stopped mid-training by a graceful shutdown (its event stream
 * ends with `shutdown`), and a new server on the same data dir (and Redis, when `env` names one)
 * trains it again from the start to success, with one clean set of per-epoch metrics.
 */
export async function restartMidTraining(
  gateway: TestGateway,
  dataset: string,
  env: Record<string, string> = {},
): Promise<void> {
  const epochs = 40;
  const submitted = await gateway.admin("/admin/v1/training/jobs", {
    method: "POST",
    body: JSON.stringify({ dataset, template: "mlp", hyperparameters: { epochs, patience: 0, batchSize: 8 }, seed: 9 }),
  });
  assert.equal(submitted.status, 201);
  const { id } = (await submitted.json()) as { id: string };
  const stream = await gateway.admin(`/admin/v1/training/jobs/${id}/events`);
  assert.ok(stream.body);
  // Read until the first epoch ends, then stop the server while the job is still training.
  const reader = stream.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("event: epoch")) {
    const { value, done } = await reader.read();
    assert.equal(done, false, `the stream ended before an epoch: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  const stopping = gateway.server.shutdown("restart");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await stopping;
  assert.match(text, /event: shutdown\n/, "open streams end with a shutdown event");
  assert.doesNotMatch(text, /"status":"(succeeded|failed)"/, "stopped while training");

  const settings = resolveSettings(
    { config: join(gateway.dataDir, "modelport.json"), port: 0, dataDir: gateway.dataDir },
    { MODELPORT_ADMIN_TOKEN: gateway.adminToken, ...env },
  );
  const again = await startServer(settings);
  try {
    const admin = (path: string) =>
      fetch(`${again.url}${path}`, { headers: { authorization: `Bearer ${gateway.adminToken}` } });
    const { events } = await readEventStream(await admin(`/admin/v1/training/jobs/${id}/events`));
    const final = events[events.length - 1]?.data as JobView;
    assert.equal(final.status, "succeeded", final.error ?? "");
    assert.equal(final.result?.runId, id);
    const run = (await (await admin(`/admin/v1/runs/${id}`)).json()) as {
      run: { status: string };
      metrics: Record<string, { step: number }[]>;
    };
    assert.equal(run.run.status, "succeeded");
    assert.deepEqual(
      run.metrics.loss?.map((point) => point.step),
      Array.from({ length: epochs }, (_, i) => i + 1),
      "the interrupted attempt's metrics were replaced, not duplicated",
    );
  } finally {
    await again.shutdown("test finished");
  }
}
