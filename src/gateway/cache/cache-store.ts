/**
 * Where cached answers live: an in-memory LRU per process (memory-store.ts) or Redis shared by
 * every node (redis-store.ts). Keys are already hashes; values are serialized answers. A store may
 * throw or reject; the response cache treats any failure as a miss, never as a failed request.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}
