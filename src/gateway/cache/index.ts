/**
 * The response cache (opt-in per endpoint, `endpoints.<name>.cache`) for non-streamed chat
 * completions and embeddings:
 *
 *   const responseCache = openResponseCache({ endpoints: config.endpoints, redisUrl, encryptionKey, keySecret, metrics, onError });
 *   createGatewayApp({ …, responseCache });   // routes call serveCached(...) around router.execute
 *   await responseCache?.close();             // in the drain path
 *
 * One in-memory LRU per endpoint by default; one Redis shared by every node when a Redis URL is
 * set (values sealed with AES-256-GCM). Admission, metering and privacy stay in the routes.
 */
import type { EndpointConfig } from "../../config/schema.js";
import { ModelportError } from "../../core/errors.js";
import type { Metrics } from "../../monitoring/metrics.js";
import type { CacheStore } from "./cache-store.js";
import { createMemoryCacheStore } from "./memory-store.js";
import { createRedisCacheStore } from "./redis-store.js";
import { createResponseCache, type ResponseCache } from "./response-cache.js";

export type { CacheStore } from "./cache-store.js";
export {
  type CacheSettings,
  createResponseCache,
  type FreshAnswer,
  type ResponseCache,
  type ServedAnswer,
  serveCached,
} from "./response-cache.js";

/** The gateway's response cache, or undefined when no endpoint caches (no Redis connection then). */
export function openResponseCache(options: {
  endpoints: Readonly<Record<string, Pick<EndpointConfig, "kind" | "cache">>>;
  redisUrl: string | undefined;
  /** Seals values stored in Redis (32 bytes, derived from the master key). */
  encryptionKey: Buffer;
  /** Keys the lookup hashes (32 bytes, derived from the master key). */
  keySecret: Buffer;
  metrics: Pick<Metrics, "cacheRequests">;
  onError?: (error: unknown, suppressed: number) => void;
}): ResponseCache | undefined {
  for (const [name, endpoint] of Object.entries(options.endpoints))
    if (endpoint.cache && endpoint.kind === "predict")
      throw new ModelportError(
        "MP_CONFIG_INVALID",
        `endpoints.${name}.cache: only chat and embeddings endpoints can cache answers`,
      );
  if (!Object.values(options.endpoints).some((endpoint) => endpoint.cache)) return undefined;
  const { redisUrl, encryptionKey } = options;
  const shared = redisUrl ? createRedisCacheStore({ url: redisUrl, encryptionKey }) : undefined;
  // Every endpoint uses the one Redis connection; it is closed once, below, not per endpoint.
  const sharedView: CacheStore | undefined = shared && {
    get: (key) => shared.get(key),
    set: (key, value, ttlSeconds) => shared.set(key, value, ttlSeconds),
    close: async () => {},
  };
  const cache = createResponseCache({
    storeFor: (_endpoint, settings) => sharedView ?? createMemoryCacheStore({ maxEntries: settings.maxEntries }),
    keySecret: options.keySecret,
    metrics: options.metrics,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    serve: cache.serve,
    async close() {
      await cache.close();
      await shared?.close();
    },
  };
}
