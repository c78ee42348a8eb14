import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import { gaugeValue, importTabularDataset, restartMidTraining, trainOverAdminApi } from "./training-admin-scenario.js";

/**
 * The same admin API with MODELPORT_REDIS_URL set: jobs go through BullMQ in the real Redis (a
 * unique key prefix per run), the worker runs in the server process, progress reaches the SSE
 * stream through BullMQ's queue events, and the job is still in Redis after the server stops.
 */
const redisUrl = process.env.MODELPORT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

if (process.env.MODELPORT_TEST_SKIP_REDIS === "1") {
  test("training over the admin API (BullMQ)", { skip: "MODELPORT_TEST_SKIP_REDIS=1 is set" }, () => {});
} else {
  describe("training over the admin API (BullMQ in Redis)", () => {
    const prefix = `mp-test-${randomBytes(6).toString("hex")}`;
    let gateway: TestGateway | undefined;
    const redis = new Redis(redisUrl, { lazyConnect: true });
    before(async () => {
      assert.ok(await redisReachable(), `Redis is required at ${redisUrl} (set MODELPORT_TEST_SKIP_REDIS=1 to skip)`);
      await redis.connect();
      gateway = await startTestGateway(
        { training: { queuePrefix: prefix } },
        { env: { MODELPORT_REDIS_URL: redisUrl } },
      );
      await importTabularDataset(gateway, "tabular");
    });
    after(async () => {
      await gateway?.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    test("submit → SSE epochs in order → succeeded with the run id; the job lives in Redis", async () => {
      const live = gateway as TestGateway;
      const final = await trainOverAdminApi(live, "tabular");
      // The queue is BullMQ's, under this test's prefix: the job hash holds the result.
      const stored = await redis.hgetall(`${prefix}:modelport-training:${final.id}`);
      assert.equal(JSON.parse(stored.returnvalue ?? "null")?.runId, final.id);
      assert.equal(JSON.parse(stored.data ?? "null")?.runId, final.id);
      assert.equal(await gaugeValue(live, 'modelport_training_jobs{status="succeeded"}'), 1);
      assert.equal(await gaugeValue(live, "modelport_training_queue_depth"), 0);
    });

    test("a job stopped by a shutdown stays in Redis and the next server trains it", async () => {
      await restartMidTraining(gateway as TestGateway, "tabular", { MODELPORT_REDIS_URL: redisUrl });
    });
  });
}
