import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { createMetrics } from "../../monitoring/metrics.js";
import { openResponseCache } from "./index.js";

const keys = { encryptionKey: Buffer.alloc(32, 1), keySecret: Buffer.alloc(32, 2) };
const cache = { ttlSeconds: 60, maxEntries: 10, maxEntryBytes: 1_024, billHits: true };

describe("openResponseCache", () => {
  it("opens nothing when no endpoint caches", () => {
    const opened = openResponseCache({
      endpoints: { chat: { kind: "chat" }, vectors: { kind: "embeddings" } },
      redisUrl: undefined,
      metrics: createMetrics(),
      ...keys,
    });
    assert.equal(opened, undefined);
  });

  it("opens an in-memory cache without a Redis URL", async () => {
    const opened = openResponseCache({
      endpoints: { chat: { kind: "chat", cache } },
      redisUrl: undefined,
      metrics: createMetrics(),
      ...keys,
    });
    assert.ok(opened);
    await opened.close();
  });

  it("refuses a cache on a predict endpoint", () => {
    assert.throws(
      () =>
        openResponseCache({
          endpoints: { classify: { kind: "predict", cache } },
          redisUrl: undefined,
          metrics: createMetrics(),
          ...keys,
        }),
      (error) =>
        error instanceof ModelportError && error.code === "MP_CONFIG_INVALID" && /classify/.test(error.message),
    );
  });
});
