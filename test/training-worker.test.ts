import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { runCli } from "./helpers/cli.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import { importTabularDataset, trainOverAdminApi } from "./training-admin-scenario.js";

/**
 * Dedicated training workers: a gateway with `training.worker: false` only queues jobs (in
 * BullMQ, real Redis); a separate `modelport worker` process on the same database and Redis
 * trains them, and the gateway's event stream still follows every epoch. SIGTERM stops the
 * worker cleanly.
 */
const redisUrl = process.env.MODELPORT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const bin = fileURLToPath(new URL("../bin/modelport.js", import.meta.url));

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startWorker(args: string[], env: Record<string, string>): Promise<WorkerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "worker", ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the worker did not get ready:\n${output}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("worker ready")) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exited });
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with ${code} before it was ready:\n${output}`));
    });
  });
}

async function jobStatus(gateway: TestGateway, id: string): Promise<string> {
  const response = await gateway.admin(`/admin/v1/training/jobs/${id}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { status: string }).status;
}

describe("dedicated training workers (BullMQ in Redis)", () => {
  const prefix = `mp-test-${randomBytes(6).toString("hex")}`;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let gateway: TestGateway | undefined;
  let worker: WorkerProcess | undefined;
  let queuedJob = "";

  before(async () => {
    await redis.connect();
    assert.equal(await redis.ping(), "PONG", `Redis is required at ${redisUrl}`);
    gateway = await startTestGateway(
      { training: { queuePrefix: prefix, worker: false } },
      { env: { MODELPORT_REDIS_URL: redisUrl } },
    );
    await importTabularDataset(gateway, "tabular");
  });
  after(async () => {
    worker?.child.kill("SIGKILL");
    await gateway?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test("a gateway with training.worker: false queues jobs but does not train them", async () => {
    const live = gateway as TestGateway;
    const response = await live.admin("/admin/v1/training/jobs", {
      method: "POST",
      body: JSON.stringify({ dataset: "tabular", template: "mlp", hyperparameters: { epochs: 2 }, tenant: "acme" }),
    });
    assert.equal(response.status, 201);
    queuedJob = ((await response.json()) as { id: string }).id;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(await jobStatus(live, queuedJob), "queued", "nobody trains it yet");
  });

  test("`modelport worker` trains the queued job and new ones; the gateway's SSE stream follows them", async () => {
    const live = gateway as TestGateway;
    worker = await startWorker(["--data-dir", live.dataDir, "--config", join(live.dataDir, "modelport.json")], {
      MODELPORT_REDIS_URL: redisUrl,
    });
    const deadline = Date.now() + 120_000;
    while ((await jobStatus(live, queuedJob)) !== "succeeded") {
      assert.ok(Date.now() < deadline, `job ${queuedJob} is ${await jobStatus(live, queuedJob)} after 120 s`);
      assert.notEqual(await jobStatus(live, queuedJob), "failed");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // A new job, followed epoch by epoch over the gateway's event stream while the worker trains it.
    const final = await trainOverAdminApi(live, "tabular");
    assert.equal(final.status, "succeeded");
  });

  test("SIGTERM stops the worker with exit code 0", async () => {
    const running = worker as WorkerProcess;
    running.child.kill("SIGTERM");
    assert.equal(await running.exited, 0, running.output());
  });
});

describe("training workers need the shared queue", () => {
  test("training.worker: false without Redis stops start-up with MP_CONFIG_INVALID", async () => {
    await assert.rejects(
      startTestGateway({ training: { worker: false } }),
      (error: Error & { code?: string }) =>
        error.code === "MP_CONFIG_INVALID" && /MODELPORT_REDIS_URL/.test(error.message),
    );
  });

  test("`modelport worker` without MODELPORT_REDIS_URL exits 1 naming it", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "modelport-worker-"));
    try {
      const result = await runCli(["worker", "--data-dir", dataDir], { MODELPORT_REDIS_URL: "" });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /MP_CONFIG_INVALID.*MODELPORT_REDIS_URL/);
      const bad = await runCli(["worker", "--data-dir", dataDir, "--concurrency", "0"], {
        MODELPORT_REDIS_URL: redisUrl,
      });
      assert.equal(bad.code, 2, bad.stderr);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
