import type { PriceRepository } from "./price-repository.js";
import type { PriceVersion } from "./price-types.js";

export interface PriceResolver {
  /** Loads the price table; call once at start-up before `priceFor`. */
  load(): Promise<void>;
  /** Re-reads the table (after an admin change; also runs every `refreshIntervalMs`). */
  refresh(): Promise<void>;
  /**
   * The version in effect for this tenant, endpoint and time (ISO or epoch ms), optionally for
   * one target. Synchronous (a snapshot in memory) so the request path never waits on the
   * database. The most specific match wins, then the latest `effectiveFrom` ≤ at within it:
   * tenant+target, tenant, target, then the endpoint's general price. Undefined when nothing
   * matches (the endpoint is free).
   */
  priceFor(tenantId: string, endpoint: string, at: string | number, target?: string | null): PriceVersion | undefined;
  /** Stops the refresh timer. */
  close(): void;
}

function latestBefore(versions: readonly PriceVersion[], at: string): PriceVersion | undefined {
  // `versions` is sorted by effectiveFrom ascending; ISO strings of one format compare as times.
  let found: PriceVersion | undefined;
  for (const version of versions) {
    if (version.effectiveFrom <= at) found = version;
    else break;
  }
  return found;
}

/**
 * An in-memory snapshot of `price_versions`. A node sees another node's admin price change
 * within `refreshIntervalMs` (default 5 s); to switch prices at an exact moment on every node,
 * add the version with an `effectiveFrom` at least that far in the future.
 */
export function createPriceResolver(options: {
  repository: PriceRepository;
  refreshIntervalMs?: number;
  onError?: (error: unknown) => void;
}): PriceResolver {
  const byEndpoint = new Map<string, PriceVersion[]>();
  let timer: NodeJS.Timeout | undefined;
  let loaded = false;

  async function refresh(): Promise<void> {
    const versions = await options.repository.listPriceVersions();
    byEndpoint.clear();
    for (const version of versions) {
      const list = byEndpoint.get(version.endpoint) ?? [];
      list.push(version);
      byEndpoint.set(version.endpoint, list);
    }
    loaded = true;
  }

  return {
    async load() {
      await refresh();
      const interval = options.refreshIntervalMs ?? 5_000;
      if (timer === undefined && interval > 0) {
        timer = setInterval(() => {
          refresh().catch((error) => options.onError?.(error));
        }, interval);
        timer.unref();
      }
    },
    refresh,
    priceFor(tenantId, endpoint, at, target) {
      if (!loaded) throw new Error("price resolver used before load()");
      const versions = byEndpoint.get(endpoint);
      if (versions === undefined) return undefined;
      const time = typeof at === "number" ? new Date(at).toISOString() : at;
      const wantedTarget = target ?? null;
      const tiers: ((version: PriceVersion) => boolean)[] = [
        (v) => v.tenantId === tenantId && wantedTarget !== null && v.target === wantedTarget,
        (v) => v.tenantId === tenantId && v.target === null,
        (v) => v.tenantId === null && wantedTarget !== null && v.target === wantedTarget,
        (v) => v.tenantId === null && v.target === null,
      ];
      for (const tier of tiers) {
        const found = latestBefore(versions.filter(tier), time);
        if (found !== undefined) return found;
      }
      return undefined;
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
