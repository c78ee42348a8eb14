import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import {
  type PrivateRedis,
  probeRedis,
  reportRedisUnavailable,
  startPrivateRedis,
} from "../src/commerce/limits/testing/redis-test-support.js";
import { resolveSettings } from "../src/config/settings.js";
import { randomId } from "../src/core/ids.js";
import { createRedisCacheStore } from "../src/gateway/cache/redis-store.js";
import { type RunningServer, startServer } from "../src/server/start-server.js";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { startTestGateway, type TestGateway, testAdminToken } from "./helpers/gateway.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

interface ChatBody {
  choices: { message: { content: string } }[];
}

const cachePrefix = "modelport:cache:";
const ttlSeconds = 120;

async function cacheKeys(redis: Redis): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${cachePrefix}*`, "COUNT", 1_000);
    cursor = next;
    for (const key of found) keys.add(key);
  } while (cursor !== "0");
  return keys;
}

function chatRequest(url: string, key: string, content: string, model = "cached"): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });
}

const config = (upstreamUrl: string) => ({
  providers: { up: { type: "openai", baseUrl: upstreamUrl } },
  endpoints: { cached: { kind: "chat", targets: [{ provider: "up", model: "m" }], cache: { ttlSeconds } } },
});

const redisProbe = await probeRedis();
const postgresProbe = await probePostgres();
if (redisProbe.state !== "ready") reportRedisUnavailable("response cache in Redis", redisProbe);
else if (postgresProbe.state !== "ready") reportPostgresUnavailable("response cache in Redis", postgresProbe);
else {
  const redisUrl = redisProbe.url;

  /**
   * Two gateway nodes of one deployment (one PostgreSQL database, one master key) sharing one
   * Redis: what one node stored, the other serves; Redis holds only sealed values under keyed hashes.
   */
  describe("response cache shared by two nodes through Redis", () => {
    let upstream: MockOpenAIUpstream;
    let database: PostgresTestDatabase;
    let nodeA: TestGateway;
    let nodeB: RunningServer;
    let nodeBDataDir: string;
    let redis: Redis;
    let keysBefore: Set<string>;
    const run = randomId("run", 8);

    before(async () => {
      redis = new Redis(redisUrl);
      keysBefore = await cacheKeys(redis);
      upstream = await startMockOpenAIUpstream();
      database = await createTestDatabase(postgresProbe.adminUrl);
      const env = { MODELPORT_MASTER_KEY: randomBytes(32).toString("hex"), MODELPORT_REDIS_URL: redisUrl };
      nodeA = await startTestGateway(config(upstream.url), { databaseUrl: database.url, env });
      nodeBDataDir = await mkdtemp(join(tmpdir(), "modelport-test-"));
      nodeB = await startServer(
        resolveSettings(
          { config: join(nodeA.dataDir, "modelport.json"), port: 0, dataDir: nodeBDataDir },
          { MODELPORT_ADMIN_TOKEN: testAdminToken, MODELPORT_DATABASE_URL: database.url, ...env },
        ),
      );
    });
    after(async () => {
      await nodeB?.shutdown("test finished");
      await nodeA?.close();
      await upstream?.close();
      await database?.drop();
      if (nodeBDataDir) await rm(nodeBDataDir, { recursive: true, force: true });
      if (redis) {
        const created = [...(await cacheKeys(redis))].filter((key) => !keysBefore.has(key));
        if (created.length > 0) await redis.del(...created);
        redis.disconnect();
      }
    });

    /** Sends a request and returns the cache key it created (exactly one is expected). */
    async function storedBy(send: () => Promise<Response>): Promise<{ response: Response; key: string }> {
      const before = await cacheKeys(redis);
      const response = await send();
      const added = [...(await cacheKeys(redis))].filter((key) => !before.has(key));
      assert.equal(added.length, 1, `one new cache key, got ${added.length}`);
      return { response, key: added[0] as string };
    }

    it("serves on one node what the other node stored, and keeps it sealed in Redis", async () => {
      const prompt = `${run}: what is the capital of Atlantis?`;
      const answer = `${run}: the capital of Atlantis is Poseidonia`;
      const calls = upstream.requests.length;
      upstream.enqueue(mockBehaviour.ok({ content: answer }));
      const { response: first, key } = await storedBy(() => chatRequest(nodeA.url, nodeA.apiKey, prompt));
      assert.equal(first.headers.get("x-modelport-cache"), "miss");
      const firstBody = (await first.json()) as ChatBody;
      assert.equal(firstBody.choices[0]?.message.content, answer);

      const second = await chatRequest(nodeB.url, nodeA.apiKey, prompt);
      assert.equal(second.status, 200);
      assert.equal(second.headers.get("x-modelport-cache"), "hit");
      assert.deepEqual(await second.json(), firstBody);
      assert.equal(upstream.requests.length, calls + 1, "the model was called once for both nodes");

      assert.match(key, /^modelport:cache:[0-9a-f]{64}$/);
      const stored = (await redis.getBuffer(key)) as Buffer;
      const raw = stored.toString("latin1");
      for (const plaintext of [answer, run, "Atlantis", "Poseidonia", nodeA.tenantId])
        assert.ok(!raw.includes(plaintext), `Redis value must not contain "${plaintext}"`);
      const ttl = await redis.ttl(key);
      assert.ok(ttl > 0 && ttl <= ttlSeconds, `ttl ${ttl}`);
    });

    it("does not serve a tenant's answer to another tenant on another node", async () => {
      const created = await nodeA.admin("/admin/v1/tenants", {
        method: "POST",
        body: JSON.stringify({ name: "globex" }),
      });
      assert.equal(created.status, 201);
      const keyResponse = await nodeA.admin("/admin/v1/tenants/globex/keys", { method: "POST", body: "{}" });
      const globexKey = ((await keyResponse.json()) as { key: string }).key;
      const prompt = `${run}: a question both tenants ask`;
      upstream.enqueue(mockBehaviour.ok({ content: "for acme" }), mockBehaviour.ok({ content: "for globex" }));
      await (await chatRequest(nodeA.url, nodeA.apiKey, prompt)).arrayBuffer();
      const globex = await chatRequest(nodeB.url, globexKey, prompt);
      assert.equal(globex.headers.get("x-modelport-cache"), "miss");
      assert.equal(((await globex.json()) as ChatBody).choices[0]?.message.content, "for globex");
      const acme = await chatRequest(nodeB.url, nodeA.apiKey, prompt);
      assert.equal(acme.headers.get("x-modelport-cache"), "hit");
      assert.equal(((await acme.json()) as ChatBody).choices[0]?.message.content, "for acme");
    });

    it("refuses a value copied under another key and answers fresh instead", async () => {
      const first = `${run}: first question`;
      const second = `${run}: second question`;
      upstream.enqueue(mockBehaviour.ok({ content: "first answer" }), mockBehaviour.ok({ content: "second answer" }));
      const { key: firstKey } = await storedBy(async () => {
        const response = await chatRequest(nodeA.url, nodeA.apiKey, first);
        await response.arrayBuffer();
        return response;
      });
      const { key: secondKey } = await storedBy(async () => {
        const response = await chatRequest(nodeA.url, nodeA.apiKey, second);
        await response.arrayBuffer();
        return response;
      });
      // Whoever can write to Redis swaps the entries: the sealed value is bound to its own key.
      await redis.set(secondKey, (await redis.getBuffer(firstKey)) as Buffer, "EX", ttlSeconds);
      const calls = upstream.requests.length;
      upstream.enqueue(mockBehaviour.ok({ content: "second answer, fresh" }));
      const response = await chatRequest(nodeB.url, nodeA.apiKey, second);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-modelport-cache"), "miss");
      assert.equal(((await response.json()) as ChatBody).choices[0]?.message.content, "second answer, fresh");
      assert.equal(upstream.requests.length, calls + 1);
      const healed = await chatRequest(nodeB.url, nodeA.apiKey, second);
      assert.equal(healed.headers.get("x-modelport-cache"), "hit", "the fresh answer replaced the bad entry");
      assert.equal(((await healed.json()) as ChatBody).choices[0]?.message.content, "second answer, fresh");
    });
  });

  /**
   * A Redis that stops answering turns lookups into misses: requests still succeed, quickly. The
   * gateway's Redis is paused (CLIENT PAUSE), not killed, so the other clients on it (limiter,
   * training queue) recover and the gateway shuts down cleanly; a refused connection is checked on
   * the store alone.
   */
  describe("response cache when Redis stops answering", () => {
    let upstream: MockOpenAIUpstream;
    let privateRedis: PrivateRedis;
    let gateway: TestGateway;

    before(async () => {
      upstream = await startMockOpenAIUpstream();
      privateRedis = await startPrivateRedis();
      gateway = await startTestGateway(config(upstream.url), { env: { MODELPORT_REDIS_URL: privateRedis.url } });
    });
    after(async () => {
      await gateway?.close();
      await upstream?.close();
      await privateRedis?.kill();
    });

    it("answers from the model while the store hangs", async () => {
      const prompt = "a question during an outage";
      await (await chatRequest(gateway.url, gateway.apiKey, prompt)).arrayBuffer();
      const hit = await chatRequest(gateway.url, gateway.apiKey, prompt);
      assert.equal(hit.headers.get("x-modelport-cache"), "hit", "the store worked before the outage");
      await hit.arrayBuffer();
      const admin = new Redis(privateRedis.url);
      try {
        await admin.call("CLIENT", "PAUSE", "4000", "ALL");
      } finally {
        admin.disconnect();
      }
      const calls = upstream.requests.length;
      for (let index = 0; index < 3; index++) {
        const started = performance.now();
        const response = await chatRequest(gateway.url, gateway.apiKey, prompt);
        assert.equal(response.status, 200, await response.clone().text());
        assert.equal(response.headers.get("x-modelport-cache"), "miss");
        await response.arrayBuffer();
        assert.ok(performance.now() - started < 1_000, "a hung store does not hold the request");
      }
      assert.equal(upstream.requests.length, calls + 3);
      // Let the pause end before the gateway closes its connections.
      await new Promise((resolve) => setTimeout(resolve, 4_000));
    });

    it("fails fast on a refused connection, and closes", async () => {
      const dead = await startPrivateRedis();
      const store = createRedisCacheStore({ url: dead.url, encryptionKey: randomBytes(32) });
      try {
        assert.equal(await store.get("k"), undefined, "not connected yet: a quiet miss");
        for (let waited = 0; waited < 2_000 && (await store.get("k")) === undefined; waited += 50) {
          await store.set("k", "v", 60);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(await store.get("k"), "v");
        await dead.kill();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = performance.now();
        await assert.rejects(store.get("k"));
        await assert.rejects(store.set("k", "v", 60));
        assert.ok(performance.now() - started < 500, "no offline queue: rejected at once");
      } finally {
        await store.close();
        await dead.kill();
      }
    });
  });
}
