import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Hono } from "hono";
import type { Principal } from "../../commerce/authenticator.js";
import { createMetrics } from "../../monitoring/metrics.js";
import type { GatewayEnv } from "../context.js";
import type { EndpointEntry } from "../endpoint-registry.js";
import type { CacheStore } from "./cache-store.js";
import { createMemoryCacheStore } from "./memory-store.js";
import { type CacheSettings, createResponseCache, type ResponseCache, serveCached } from "./response-cache.js";

const settings: CacheSettings = { ttlSeconds: 60, maxEntries: 100, maxEntryBytes: 1_024, billHits: true };

function endpointWith(cache: CacheSettings | undefined): EndpointEntry {
  return { name: "chat", kind: "chat", route: {}, config: cache ? { cache } : {} } as unknown as EndpointEntry;
}

/** A Hono app whose one route answers through the cache: body { prompt, size? }, header x-tenant. */
function harness(cache: ResponseCache | undefined, endpoint = endpointWith(settings)) {
  let upstreamCalls = 0;
  const seen: { cacheHit: boolean | undefined }[] = [];
  const app = new Hono<GatewayEnv>();
  app.post("/answer", async (c) => {
    c.set("principal", { tenantId: c.req.header("x-tenant") ?? "t1" } as unknown as Principal);
    const request = (await c.req.json()) as { prompt: string; size?: number };
    const served = await serveCached(cache, c, endpoint, request, async () => {
      upstreamCalls += 1;
      return {
        value: { text: `answer ${upstreamCalls} to ${request.prompt}`, pad: "x".repeat(request.size ?? 0) },
        target: { id: "up/m" },
        upstreamMs: 5,
      };
    });
    seen.push({ cacheHit: c.get("cacheHit") });
    return c.json({ ...served.value, cached: served.cached, billable: served.billable, target: served.target.id });
  });
  const call = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await app.request("/answer", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    });
    return {
      header: response.headers.get("x-modelport-cache"),
      body: (await response.json()) as { text: string; cached: boolean; billable: boolean; target: string },
    };
  };
  return { call, seen, upstreamCalls: () => upstreamCalls };
}

async function counterValue(metrics: ReturnType<typeof createMetrics>, result: string): Promise<number> {
  const metric = await metrics.cacheRequests.get();
  return metric.values.find((value) => value.labels.result === result && value.labels.endpoint === "chat")?.value ?? 0;
}

describe("response cache", () => {
  it("answers a repeated request from the cache, per tenant, and counts hits and misses", async () => {
    const metrics = createMetrics();
    const cache = createResponseCache({
      storeFor: () => createMemoryCacheStore({ maxEntries: 10 }),
      metrics,
    });
    const { call, seen, upstreamCalls } = harness(cache);
    const first = await call({ prompt: "p" });
    assert.equal(first.header, "miss");
    assert.deepEqual(first.body, { text: "answer 1 to p", pad: "", cached: false, billable: true, target: "up/m" });
    const second = await call({ prompt: "p" });
    assert.equal(second.header, "hit");
    assert.deepEqual(second.body, { text: "answer 1 to p", pad: "", cached: true, billable: true, target: "up/m" });
    const otherTenant = await call({ prompt: "p" }, { "x-tenant": "t2" });
    assert.equal(otherTenant.header, "miss");
    assert.equal(otherTenant.body.text, "answer 2 to p");
    assert.equal(upstreamCalls(), 2);
    assert.deepEqual(
      seen.map((entry) => entry.cacheHit),
      [false, true, false],
    );
    assert.equal(await counterValue(metrics, "miss"), 2);
    assert.equal(await counterValue(metrics, "hit"), 1);
  });

  it("marks hits unbillable when the endpoint says billHits: false", async () => {
    const cache = createResponseCache({
      storeFor: () => createMemoryCacheStore({ maxEntries: 10 }),
      metrics: createMetrics(),
    });
    const { call } = harness(cache, endpointWith({ ...settings, billHits: false }));
    assert.equal((await call({ prompt: "p" })).body.billable, true);
    const hit = await call({ prompt: "p" });
    assert.equal(hit.body.cached, true);
    assert.equal(hit.body.billable, false);
  });

  it("no-cache answers fresh and refreshes the entry; no-store answers fresh and keeps nothing", async () => {
    const metrics = createMetrics();
    const cache = createResponseCache({ storeFor: () => createMemoryCacheStore({ maxEntries: 10 }), metrics });
    const { call, upstreamCalls } = harness(cache);
    await call({ prompt: "p" });
    const refreshed = await call({ prompt: "p" }, { "cache-control": "no-cache" });
    assert.equal(refreshed.header, "bypass");
    assert.equal(refreshed.body.text, "answer 2 to p");
    assert.equal((await call({ prompt: "p" })).body.text, "answer 2 to p", "the refreshed answer is served");
    const unstored = await call({ prompt: "q" }, { "cache-control": "no-store" });
    assert.equal(unstored.header, "bypass");
    const after = await call({ prompt: "q" });
    assert.equal(after.header, "miss");
    assert.equal(upstreamCalls(), 4);
    assert.equal(await counterValue(metrics, "bypass"), 2);
  });

  it("does not keep answers larger than maxEntryBytes", async () => {
    const cache = createResponseCache({
      storeFor: () => createMemoryCacheStore({ maxEntries: 10 }),
      metrics: createMetrics(),
    });
    const { call, upstreamCalls } = harness(cache);
    await call({ prompt: "big", size: 2_000 });
    assert.equal((await call({ prompt: "big", size: 2_000 })).header, "miss");
    assert.equal(upstreamCalls(), 2);
  });

  it("serves a miss when the store fails, and reports the failure at most once per interval", async () => {
    const broken: CacheStore = {
      get: () => Promise.reject(new Error("store down")),
      set: () => Promise.reject(new Error("store down")),
      close: async () => {},
    };
    const reported: { message: string; suppressed: number }[] = [];
    const cache = createResponseCache({
      storeFor: () => broken,
      metrics: createMetrics(),
      onError: (error, suppressed) => reported.push({ message: (error as Error).message, suppressed }),
    });
    const { call, upstreamCalls } = harness(cache);
    for (let index = 0; index < 3; index++) assert.equal((await call({ prompt: "p" })).header, "miss");
    assert.equal(upstreamCalls(), 3);
    assert.deepEqual(reported, [{ message: "store down", suppressed: 0 }]);
  });

  it("treats a malformed stored value as a miss", async () => {
    const store = createMemoryCacheStore({ maxEntries: 10 });
    const cache = createResponseCache({ storeFor: () => store, metrics: createMetrics(), onError: () => {} });
    const { call, upstreamCalls } = harness(cache);
    await call({ prompt: "p" });
    // Overwrite every entry (there is one) with garbage by re-seeding the store through its own API.
    const original = store.get.bind(store);
    store.get = async (key) => ((await original(key)) === undefined ? undefined : "{not json");
    assert.equal((await call({ prompt: "p" })).header, "miss");
    assert.equal(upstreamCalls(), 2);
  });

  it("passes through without a cache, or for an endpoint without cache settings", async () => {
    const cache = createResponseCache({
      storeFor: () => createMemoryCacheStore({ maxEntries: 10 }),
      metrics: createMetrics(),
    });
    for (const { call, seen, upstreamCalls } of [harness(undefined), harness(cache, endpointWith(undefined))]) {
      const first = await call({ prompt: "p" });
      const second = await call({ prompt: "p" });
      assert.equal(first.header, null);
      assert.equal(second.body.cached, false);
      assert.equal(upstreamCalls(), 2);
      assert.deepEqual(
        seen.map((entry) => entry.cacheHit),
        [undefined, undefined],
      );
    }
  });

  it("asks for one store per endpoint and closes each once", async () => {
    let made = 0;
    let closed = 0;
    const cache = createResponseCache({
      storeFor: () => {
        made += 1;
        const store = createMemoryCacheStore({ maxEntries: 10 });
        return {
          ...store,
          close: async () => {
            closed += 1;
          },
        };
      },
      metrics: createMetrics(),
    });
    const { call } = harness(cache);
    await call({ prompt: "p" });
    await call({ prompt: "q" });
    assert.equal(made, 1);
    await cache.close();
    assert.equal(closed, 1);
  });
});
