import { type DecimalPrices, parsePriceSchedule } from "./parse-prices.js";
import type { PriceRepository } from "./price-repository.js";
import { type PriceSchedule, type PriceVersion, sameSchedule, zeroSchedule } from "./price-types.js";

/**
 * Makes the price table match the config file's `endpoints.<name>.pricing` (USD) by ADDING
 * versions, effective `now`, never by editing old ones: an endpoint whose configured price
 * differs from its latest config-sourced general version gets a new version; an endpoint whose
 * pricing was removed from the config gets a zero version (if its last config price was not
 * zero already). Versions added through the admin API (source `admin`) are left alone.
 * Returns the versions it added. Run at start-up, after migrations, before serving.
 */
export async function syncConfigPrices(options: {
  repository: PriceRepository;
  endpoints: Readonly<Record<string, { pricing?: DecimalPrices | undefined }>>;
  now: number;
  currency?: string;
}): Promise<PriceVersion[]> {
  const { repository, endpoints } = options;
  const effectiveFrom = new Date(options.now).toISOString();
  const existing = await repository.listPriceVersions();
  const latestConfig = new Map<string, PriceVersion>();
  for (const version of existing) {
    if (version.source === "config" && version.tenantId === null && version.target === null) {
      latestConfig.set(version.endpoint, version); // ascending order: the last one wins
    }
  }

  const wanted = new Map<string, PriceSchedule>();
  for (const [name, endpoint] of Object.entries(endpoints)) {
    if (endpoint.pricing === undefined) continue;
    wanted.set(
      name,
      parsePriceSchedule(endpoint.pricing, { fieldPrefix: `endpoints.${name}.pricing`, code: "MP_CONFIG_INVALID" }),
    );
  }
  for (const [name, previous] of latestConfig) {
    if (!wanted.has(name) && !sameSchedule(previous, zeroSchedule)) wanted.set(name, zeroSchedule);
  }

  const added: PriceVersion[] = [];
  for (const [endpoint, schedule] of wanted) {
    const previous = latestConfig.get(endpoint);
    if (previous !== undefined && sameSchedule(previous, schedule)) continue;
    if (previous === undefined && sameSchedule(schedule, zeroSchedule)) continue;
    added.push(
      await repository.addPriceVersion({
        endpoint,
        ...schedule,
        currency: options.currency ?? "USD",
        effectiveFrom,
        source: "config",
      }),
    );
  }
  return added;
}
