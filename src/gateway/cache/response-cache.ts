import type { Context } from "hono";
import type { EndpointConfig } from "../../config/schema.js";
import type { Metrics } from "../../monitoring/metrics.js";
import type { GatewayEnv } from "../context.js";
import type { EndpointEntry } from "../endpoint-registry.js";
import { cacheDirectives } from "./cache-control.js";
import { responseCacheKey } from "./cache-key.js";
import type { CacheStore } from "./cache-store.js";

export type CacheSettings = NonNullable<EndpointConfig["cache"]>;

/** An answer from the model: what `router.execute` resolves to, as far as the cache cares. */
export interface FreshAnswer<T> {
  value: T;
  target: { id: string };
  upstreamMs: number;
}

export interface ServedAnswer<T> extends FreshAnswer<T> {
  /** Answered from the cache: no upstream call was made. */
  cached: boolean;
  /** Whether to meter it: fresh answers always, cached ones per the endpoint's `billHits`. */
  billable: boolean;
}

export interface ResponseCache {
  /**
   * Answers from the cache when the endpoint caches and the request allows it, else calls
   * `fetch` and keeps its answer. Sets `x-modelport-cache`, the `cacheHit` variable and the
   * cache metric. `request` is what the model receives (after guards and PII filtering); the
   * stored value is the model's raw answer, so per-request restoration still runs on hits.
   */
  serve<T>(
    c: Context<GatewayEnv>,
    endpoint: EndpointEntry,
    request: object,
    fetch: () => Promise<FreshAnswer<T>>,
  ): Promise<ServedAnswer<T>>;
  close(): Promise<void>;
}

export interface ResponseCacheOptions {
  /** The store of an endpoint, asked once per endpoint: memory LRUs are per endpoint, Redis is one. */
  storeFor(endpoint: string, settings: CacheSettings): CacheStore;
  /** Keys lookups with an HMAC (derive it from the master key); plain SHA-256 without. */
  keySecret?: Buffer;
  metrics: Pick<Metrics, "cacheRequests">;
  /** A store failed and the request went on as a miss. At most one report per 10 s; `suppressed` since the last. */
  onError?: (error: unknown, suppressed: number) => void;
}

interface StoredAnswer {
  target: string;
  value: unknown;
}

function parseStored(text: string): StoredAnswer {
  const parsed = JSON.parse(text) as Partial<StoredAnswer>;
  if (typeof parsed?.target !== "string" || parsed.value === undefined) throw new Error("malformed cache entry");
  return parsed as StoredAnswer;
}

const errorReportIntervalMs = 10_000;

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const stores = new Map<string, CacheStore>();
  const storeOf = (endpoint: string, settings: CacheSettings) => {
    let store = stores.get(endpoint);
    if (!store) {
      store = options.storeFor(endpoint, settings);
      stores.set(endpoint, store);
    }
    return store;
  };
  // An outage fails every lookup: report the first, then one per interval with a count.
  let lastReportAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  const reportError = (error: unknown) => {
    const now = Date.now();
    if (now - lastReportAt < errorReportIntervalMs) {
      suppressed += 1;
      return;
    }
    lastReportAt = now;
    options.onError?.(error, suppressed);
    suppressed = 0;
  };

  return {
    async serve<T>(
      c: Context<GatewayEnv>,
      endpoint: EndpointEntry,
      request: object,
      fetch: () => Promise<FreshAnswer<T>>,
    ): Promise<ServedAnswer<T>> {
      const settings = endpoint.config.cache;
      if (!settings) return { ...(await fetch()), cached: false, billable: true };
      const directives = cacheDirectives(c.req.header("cache-control"));
      const outcome = (result: "hit" | "miss" | "bypass") => {
        c.header("x-modelport-cache", result);
        c.set("cacheHit", result === "hit");
        options.metrics.cacheRequests.labels(endpoint.name, result).inc();
      };
      const store = storeOf(endpoint.name, settings);
      const key = responseCacheKey(
        {
          tenantId: c.get("principal")?.tenantId ?? null,
          endpoint: endpoint.name,
          kind: endpoint.kind,
          request,
        },
        options.keySecret,
      );

      if (directives.read) {
        let stored: StoredAnswer | undefined;
        try {
          const text = await store.get(key);
          stored = text === undefined ? undefined : parseStored(text);
        } catch (error) {
          reportError(error);
        }
        if (stored) {
          outcome("hit");
          return {
            value: stored.value as T,
            target: { id: stored.target },
            upstreamMs: 0,
            cached: true,
            billable: settings.billHits,
          };
        }
      }

      const fresh = await fetch();
      outcome(directives.read ? "miss" : "bypass");
      if (directives.write) {
        const text = JSON.stringify({ target: fresh.target.id, value: fresh.value } satisfies StoredAnswer);
        if (Buffer.byteLength(text, "utf8") <= settings.maxEntryBytes) {
          try {
            await store.set(key, text, settings.ttlSeconds);
          } catch (error) {
            reportError(error);
          }
        }
      }
      return { ...fresh, cached: false, billable: true };
    },

    async close() {
      const distinct = new Set(stores.values());
      stores.clear();
      await Promise.allSettled([...distinct].map((store) => store.close()));
    },
  };
}

/** Without a cache, or for an endpoint that does not cache: a plain fresh answer. */
export async function serveCached<T>(
  cache: ResponseCache | undefined,
  c: Context<GatewayEnv>,
  endpoint: EndpointEntry,
  request: object,
  fetch: () => Promise<FreshAnswer<T>>,
): Promise<ServedAnswer<T>> {
  if (!cache || !endpoint.config.cache) return { ...(await fetch()), cached: false, billable: true };
  return cache.serve(c, endpoint, request, fetch);
}
