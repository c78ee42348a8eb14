import { Redis } from "ioredis";
import type { CacheStore } from "./cache-store.js";
import { openValue, sealValue } from "./sealed-value.js";

export interface RedisCacheStoreOptions {
  /** `redis://...`; the store creates and owns the client (closed by `close()`). */
  url: string;
  /** 32 bytes: values are sealed with it (AES-256-GCM) before they leave the process. */
  encryptionKey: Buffer;
  /** Default `modelport:cache:`. */
  prefix?: string;
  /** A lookup waits at most this long before it counts as a miss. Default 250. */
  commandTimeoutMs?: number;
}

/**
 * The shared cache of a multi-node deployment: every node reads what any node stored. Values are
 * sealed (sealed-value.ts); keys are keyed hashes, so Redis holds no prompt or answer in plaintext.
 * A Redis that is down or slow makes lookups fail fast (no offline queue, short command timeout),
 * which the response cache turns into misses.
 */
export function createRedisCacheStore(options: RedisCacheStoreOptions): CacheStore {
  const prefix = options.prefix ?? "modelport:cache:";
  const timeoutMs = options.commandTimeoutMs ?? 250;
  const connectTimeoutMs = 2_000;
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: connectTimeoutMs,
  });
  // Without a listener ioredis prints every connection error; failed commands are reported instead.
  client.on("error", () => undefined);
  // While the first connection is being made, lookups are quiet misses: a starting node is not an
  // outage. A Redis still unreachable after the connect timeout is reported like any outage.
  const createdAt = Date.now();
  let connectedOnce = false;
  client.once("ready", () => {
    connectedOnce = true;
  });
  const starting = () => !connectedOnce && Date.now() - createdAt < connectTimeoutMs;
  return {
    async get(key) {
      if (starting()) return undefined;
      const storeKey = prefix + key;
      const stored = await client.getBuffer(storeKey);
      return stored === null ? undefined : openValue(options.encryptionKey, storeKey, stored);
    },
    async set(key, value, ttlSeconds) {
      if (starting()) return;
      const storeKey = prefix + key;
      await client.set(storeKey, sealValue(options.encryptionKey, storeKey, value), "EX", ttlSeconds);
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect(); // already down: just drop the socket
      }
    },
  };
}
