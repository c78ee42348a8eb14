/** What a request's `cache-control` header lets the response cache do. */
export interface CacheDirectives {
  /** `no-cache` or `no-store`: answer from the model, not the cache. */
  read: boolean;
  /** `no-store`: do not keep the answer either. */
  write: boolean;
}

export function cacheDirectives(header: string | undefined): CacheDirectives {
  if (!header) return { read: true, write: true };
  const directives = new Set(header.split(",").map((part) => part.trim().toLowerCase().split("=")[0]));
  const noStore = directives.has("no-store");
  return { read: !noStore && !directives.has("no-cache"), write: !noStore };
}
