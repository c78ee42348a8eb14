import type { Clock } from "../../core/clock.js";

/**
 * A small LRU with a time-to-live for unwrapped data keys: unwrapping costs a database read, so
 * hot tenants stay in memory, but only briefly (a key destroyed by another node stops working
 * here within `ttlMs`) and only up to `maxEntries` (memory and exposure are bounded).
 * Evicted buffers are not zeroed: a caller may still hold one between an await and its
 * synchronous use, and zeroing it would encrypt with an all-zero key.
 */
export interface KeyCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  /** Drops every entry whose key starts with the prefix (a tenant's keys). */
  deletePrefix(prefix: string): void;
  clear(): void;
  readonly size: number;
}

export function createKeyCache<V>(options: { maxEntries: number; ttlMs: number; clock: Clock }): KeyCache<V> {
  const entries = new Map<string, { value: V; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= options.clock.now()) {
        entries.delete(key);
        return undefined;
      }
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      if (options.maxEntries <= 0 || options.ttlMs <= 0) return;
      entries.delete(key);
      entries.set(key, { value, expiresAt: options.clock.now() + options.ttlMs });
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    deletePrefix(prefix) {
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
