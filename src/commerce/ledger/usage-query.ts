import { type Kysely, sql } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import type { Database } from "../../storage/schema.js";
import { integerFromDatabase } from "../money/database-integer.js";
import { addMicros } from "../money/money.js";
import type { UsageKind, UsageRecord, UsageStatus } from "./usage-record.js";

export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  items: number;
  costMicros: number;
}

export interface UsageQuery {
  tenantId: string;
  /** Inclusive, ISO-8601. */
  from: string;
  /** Exclusive, ISO-8601. */
  to: string;
  keyId?: string | undefined;
  endpoint?: string | undefined;
  /** `day`: also one row per UTC day with usage. */
  groupBy?: "day" | "none" | undefined;
}

export interface UsageReport {
  totals: UsageTotals;
  days?: (UsageTotals & { day: string })[];
}

export interface ExportQuery {
  tenantId: string;
  from?: string | undefined;
  to?: string | undefined;
  keyId?: string | undefined;
  endpoint?: string | undefined;
  /** Page size, 1 … 10,000 (default 1,000). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface ExportPage {
  records: UsageRecord[];
  /** Null on the last page. */
  nextCursor: string | null;
}

export interface UsageQueries {
  usage(query: UsageQuery): Promise<UsageReport>;
  exportRecords(query: ExportQuery): Promise<ExportPage>;
}

const dayMs = 86_400_000;

function parseTime(value: string, field: string): number {
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new ModelportError("MP_INVALID_REQUEST", `${field}: not an ISO-8601 time: "${value}"`, { param: field });
  }
  return parsed;
}

function emptyTotals(): UsageTotals {
  return { requests: 0, inputTokens: 0, outputTokens: 0, items: 0, costMicros: 0 };
}

function addTotals(into: UsageTotals, row: UsageTotals): void {
  into.requests += row.requests;
  into.inputTokens += row.inputTokens;
  into.outputTokens += row.outputTokens;
  into.items += row.items;
  into.costMicros = addMicros(into.costMicros, row.costMicros);
}

interface SumRow {
  day: string;
  requests: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  items: unknown;
  cost_micros: unknown;
}

function totalsFromRow(row: SumRow): UsageTotals {
  return {
    requests: integerFromDatabase(row.requests, "requests"),
    inputTokens: integerFromDatabase(row.input_tokens, "input_tokens"),
    outputTokens: integerFromDatabase(row.output_tokens, "output_tokens"),
    items: integerFromDatabase(row.items, "items"),
    costMicros: integerFromDatabase(row.cost_micros, "cost_micros"),
  };
}

/** Whole UTC days from the rollup table: one index range scan on (tenant_id, day, …). */
async function rollupDays(db: Kysely<Database>, query: UsageQuery, fromDay: string, toDay: string): Promise<SumRow[]> {
  let builder = db
    .selectFrom("usage_daily")
    .select([
      "day",
      sql<unknown>`sum(requests)`.as("requests"),
      sql<unknown>`sum(input_tokens)`.as("input_tokens"),
      sql<unknown>`sum(output_tokens)`.as("output_tokens"),
      sql<unknown>`sum(items)`.as("items"),
      sql<unknown>`sum(cost_micros)`.as("cost_micros"),
    ])
    .where("tenant_id", "=", query.tenantId)
    .where("day", ">=", fromDay)
    .where("day", "<", toDay);
  if (query.keyId !== undefined) builder = builder.where("key_id", "=", query.keyId);
  if (query.endpoint !== undefined) builder = builder.where("endpoint", "=", query.endpoint);
  return builder.groupBy("day").execute();
}

/** A partial day (the ragged ends of a range) from the records: index range on (tenant_id, time). */
async function recordDays(db: Kysely<Database>, query: UsageQuery, from: string, to: string): Promise<SumRow[]> {
  let builder = db
    .selectFrom("usage_records")
    .select([
      sql<string>`substr(time, 1, 10)`.as("day"),
      sql<unknown>`count(*)`.as("requests"),
      sql<unknown>`sum(input_tokens)`.as("input_tokens"),
      sql<unknown>`sum(output_tokens)`.as("output_tokens"),
      sql<unknown>`sum(items)`.as("items"),
      sql<unknown>`sum(cost_micros)`.as("cost_micros"),
    ])
    .where("tenant_id", "=", query.tenantId)
    .where("time", ">=", from)
    .where("time", "<", to);
  if (query.keyId !== undefined) builder = builder.where("key_id", "=", query.keyId);
  if (query.endpoint !== undefined) builder = builder.where("endpoint", "=", query.endpoint);
  return builder.groupBy(sql`substr(time, 1, 10)`).execute();
}

function encodeCursor(time: string, requestId: string): string {
  return Buffer.from(JSON.stringify([time, requestId])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && typeof value[0] === "string" && typeof value[1] === "string") {
      return [value[0], value[1]];
    }
  } catch {
    // fall through to the error below
  }
  throw new ModelportError("MP_INVALID_REQUEST", "cursor is not a cursor this server returned", { param: "cursor" });
}

export function recordFromRow(row: Record<string, unknown>): UsageRecord {
  return {
    requestId: row.request_id as string,
    tenantId: row.tenant_id as string,
    keyId: row.key_id as string,
    endpoint: row.endpoint as string,
    target: row.target as string | null,
    model: row.model as string | null,
    kind: row.kind as UsageKind,
    status: row.status as UsageStatus,
    inputTokens: integerFromDatabase(row.input_tokens, "input_tokens"),
    outputTokens: integerFromDatabase(row.output_tokens, "output_tokens"),
    items: integerFromDatabase(row.items, "items"),
    priceVersionId: row.price_version_id as string | null,
    currency: row.currency as string,
    costMicros: integerFromDatabase(row.cost_micros, "cost_micros"),
    inputCostMicros: integerFromDatabase(row.input_cost_micros, "input_cost_micros"),
    outputCostMicros: integerFromDatabase(row.output_cost_micros, "output_cost_micros"),
    time: row.time as string,
  };
}

/**
 * Usage reports and raw record export, always scoped to one tenant.
 *
 * A report over [from, to) reads whole UTC days from the `usage_daily` rollup (maintained with
 * every ledger batch) and only the ragged ends (a partial first and last day) from the records,
 * so its cost grows with the number of days and keys, not with the number of records.
 */
export function createUsageQueries(handle: DatabaseHandle): UsageQueries {
  const { db } = handle;
  return {
    async usage(query) {
      const fromMs = parseTime(query.from, "from");
      const toMs = parseTime(query.to, "to");
      if (toMs < fromMs) throw new ModelportError("MP_INVALID_REQUEST", "to is before from", { param: "to" });
      const from = new Date(fromMs).toISOString();
      const to = new Date(toMs).toISOString();
      const firstWholeDay = Math.ceil(fromMs / dayMs) * dayMs;
      const endOfWholeDays = Math.floor(toMs / dayMs) * dayMs;

      const rows: SumRow[] = [];
      if (firstWholeDay >= endOfWholeDays) {
        rows.push(...(await recordDays(db, query, from, to)));
      } else {
        const wholeFrom = new Date(firstWholeDay).toISOString();
        const wholeTo = new Date(endOfWholeDays).toISOString();
        if (fromMs < firstWholeDay) rows.push(...(await recordDays(db, query, from, wholeFrom)));
        rows.push(...(await rollupDays(db, query, wholeFrom.slice(0, 10), wholeTo.slice(0, 10))));
        if (endOfWholeDays < toMs) rows.push(...(await recordDays(db, query, wholeTo, to)));
      }

      const totals = emptyTotals();
      const byDay = new Map<string, UsageTotals>();
      for (const row of rows) {
        const values = totalsFromRow(row);
        addTotals(totals, values);
        const day = byDay.get(row.day) ?? emptyTotals();
        addTotals(day, values);
        byDay.set(row.day, day);
      }
      if (query.groupBy !== "day") return { totals };
      const days = [...byDay.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([day, values]) => ({ day, ...values }));
      return { totals, days };
    },

    async exportRecords(query) {
      const limit = query.limit ?? 1_000;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
        throw new ModelportError("MP_INVALID_REQUEST", "limit must be an integer from 1 to 10000", { param: "limit" });
      }
      let builder = db.selectFrom("usage_records").selectAll().where("tenant_id", "=", query.tenantId);
      if (query.from !== undefined) {
        builder = builder.where("time", ">=", new Date(parseTime(query.from, "from")).toISOString());
      }
      if (query.to !== undefined)
        builder = builder.where("time", "<", new Date(parseTime(query.to, "to")).toISOString());
      if (query.keyId !== undefined) builder = builder.where("key_id", "=", query.keyId);
      if (query.endpoint !== undefined) builder = builder.where("endpoint", "=", query.endpoint);
      if (query.cursor !== undefined) {
        const [time, requestId] = decodeCursor(query.cursor);
        builder = builder.where((eb) =>
          eb.or([eb("time", ">", time), eb.and([eb("time", "=", time), eb("request_id", ">", requestId)])]),
        );
      }
      const rows = await builder
        .orderBy("time")
        .orderBy("request_id")
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit).map((row) => recordFromRow(row as unknown as Record<string, unknown>));
      const last = page.at(-1);
      return {
        records: page,
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.time, last.requestId) : null,
      };
    },
  };
}
