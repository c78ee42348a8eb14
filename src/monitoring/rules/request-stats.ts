import { type Kysely, sql } from "kysely";
import type { Database } from "../../storage/schema.js";

export interface RequestStatsQuery {
  /** Inclusive, ISO-8601. */
  from: string;
  /** Exclusive, ISO-8601. */
  to: string;
  tenantId?: string | undefined;
  endpoint?: string | undefined;
  target?: string | undefined;
}

export interface RequestStats {
  requests: number;
  /** Responses with status ≥ 500 (the gateway's or the model's fault, not the caller's). */
  errors: number;
  /** errors / requests; null with no requests. */
  errorRate: number | null;
  /** Nearest-rank 99th percentile of latency in microseconds; null with no requests. */
  p99LatencyUs: number | null;
}

/**
 * Error rate and p99 latency over a window of the request log, computed in SQL that both dialects
 * run: a count, then one row fetched at the nearest-rank offset, so no window's rows are ever
 * loaded into memory whatever the traffic.
 */
export function createRequestStatsSource(db: Kysely<Database>) {
  function scoped(query: RequestStatsQuery) {
    let select = db.selectFrom("request_log").where("time", ">=", query.from).where("time", "<", query.to);
    if (query.tenantId !== undefined) select = select.where("tenant_id", "=", query.tenantId);
    if (query.endpoint !== undefined) select = select.where("endpoint", "=", query.endpoint);
    if (query.target !== undefined) select = select.where("target", "=", query.target);
    return select;
  }

  return {
    async stats(query: RequestStatsQuery): Promise<RequestStats> {
      const totals = await scoped(query)
        .select((eb) => [
          eb.fn.countAll<number | string>().as("requests"),
          sql<number | string | null>`sum(case when status >= 500 then 1 else 0 end)`.as("errors"),
        ])
        .executeTakeFirstOrThrow();
      const requests = Number(totals.requests);
      const errors = Number(totals.errors ?? 0);
      if (requests === 0) return { requests, errors, errorRate: null, p99LatencyUs: null };
      const rank = Math.ceil(0.99 * requests);
      const p99 = await scoped(query)
        .select("latency_us")
        .orderBy("latency_us", "asc")
        .limit(1)
        .offset(rank - 1)
        .executeTakeFirst();
      return { requests, errors, errorRate: errors / requests, p99LatencyUs: p99 ? Number(p99.latency_us) : null };
    },

    /** Endpoints that served requests in the window (for rules that watch every endpoint). */
    async endpoints(query: Omit<RequestStatsQuery, "endpoint" | "target">): Promise<string[]> {
      const rows = await scoped(query)
        .select("endpoint")
        .where("endpoint", "is not", null)
        .groupBy("endpoint")
        .orderBy("endpoint")
        .limit(1000)
        .execute();
      return rows.map((row) => row.endpoint as string);
    },
  };
}

export type RequestStatsSource = ReturnType<typeof createRequestStatsSource>;
