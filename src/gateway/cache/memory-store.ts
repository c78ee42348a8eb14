import { LRUCache } from "lru-cache";
import type { CacheStore } from "./cache-store.js";

/**
 * Held answers bounded by size too, not only count: 10 000 entries of up to 256 KiB each would
 * otherwise allow 2.5 GiB per endpoint. Sizes are string lengths (about a byte per character).
 */
export const defaultMaxBytes = 64 * 1024 * 1024;

/**
 * One process's cache: least recently used answers go first once `maxEntries` (or `maxBytes`)
 * are held, and each expires after its TTL. `now` is injectable (milliseconds, monotonic) so
 * expiry is testable.
 */
export function createMemoryCacheStore(options: {
  maxEntries: number;
  maxBytes?: number;
  now?: () => number;
}): CacheStore {
  const entries = new LRUCache<string, string>({
    max: options.maxEntries,
    maxSize: options.maxBytes ?? defaultMaxBytes,
    sizeCalculation: (value, key) => value.length + key.length,
    // lru-cache reads the clock at most once per ttlResolution ms (a timer refreshes it); an
    // injected clock is read on every check instead.
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  return {
    get: async (key) => entries.get(key),
    async set(key, value, ttlSeconds) {
      entries.set(key, value, { ttl: ttlSeconds * 1_000 });
    },
    async close() {
      entries.clear();
    },
  };
}
