import type BetterSqlite3 from "better-sqlite3";
import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { Database, RequestLogTable } from "../../storage/schema.js";
import type { RequestLogEntry, RequestLogQuery } from "./types.js";

const toNumber = (value: number | string | null) => (value === null ? null : Number(value));

function toEntry(row: Selectable<RequestLogTable>): RequestLogEntry {
  return {
    requestId: row.request_id,
    time: row.time,
    tenantId: row.tenant_id,
    keyId: row.key_id,
    endUserHash: row.end_user_hash,
    protocol: row.protocol,
    method: row.method,
    path: row.path,
    endpoint: row.endpoint,
    target: row.target,
    modelVersion: row.model_version,
    status: row.status,
    errorCode: row.error_code,
    latencyUs: Number(row.latency_us),
    overheadUs: Number(row.overhead_us),
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    costMicros: toNumber(row.cost_micros),
    cacheHit: row.cache_hit === 1,
    stream: row.stream === 1,
    guardVerdicts: row.guard_verdicts === null ? null : (JSON.parse(row.guard_verdicts) as unknown[]),
    requestPayload: row.request_payload,
    responsePayload: row.response_payload,
  };
}

export function toRow(entry: RequestLogEntry): RequestLogTable {
  return {
    request_id: entry.requestId,
    time: entry.time,
    tenant_id: entry.tenantId,
    key_id: entry.keyId,
    end_user_hash: entry.endUserHash,
    protocol: entry.protocol,
    method: entry.method,
    path: entry.path,
    endpoint: entry.endpoint,
    target: entry.target,
    model_version: entry.modelVersion,
    status: entry.status,
    error_code: entry.errorCode,
    latency_us: Math.round(entry.latencyUs),
    overhead_us: Math.round(entry.overheadUs),
    input_tokens: entry.inputTokens,
    output_tokens: entry.outputTokens,
    cost_micros: entry.costMicros,
    cache_hit: entry.cacheHit ? 1 : 0,
    stream: entry.stream ? 1 : 0,
    guard_verdicts: entry.guardVerdicts === null ? null : JSON.stringify(entry.guardVerdicts),
    request_payload: entry.requestPayload,
    response_payload: entry.responsePayload,
  };
}

function encodeCursor(entry: RequestLogEntry): string {
  return Buffer.from(JSON.stringify([entry.time, entry.requestId])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === "string"))
      return value as [string, string];
  } catch {
    // fall through to the error below
  }
  throw new ModelportError("MP_INVALID_REQUEST", "cursor is not one this server issued", { param: "cursor" });
}

/** The table's columns in toRow's order (derived from it, so the two cannot drift apart). */
const columns = Object.keys(toRow({} as RequestLogEntry)) as (keyof RequestLogTable)[];

/**
 * On SQLite, batches go through one cached prepared INSERT run per row inside a transaction,
 * instead of a multi-row INSERT that kysely compiles and SQLite parses for every batch (~2× the
 * rows per second, as for the ledger; see BENCHMARKS.md). The writer runs off the request path,
 * but on the same event loop, so a cheaper batch is cheaper requests.
 */
function createSqliteBatchInsert(connection: BetterSqlite3.Database) {
  const statement = connection.prepare(
    `INSERT INTO request_log (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) ON CONFLICT (request_id) DO NOTHING`,
  );
  return connection.transaction((entries: readonly RequestLogEntry[]) => {
    for (const entry of entries) {
      const row = toRow(entry);
      statement.run(columns.map((column) => row[column]));
    }
  });
}

/** Reads and maintenance of the request log; newest first, keyset-paginated. */
export function createRequestLogRepository(
  db: Kysely<Database>,
  options: { sqliteConnection?: BetterSqlite3.Database | undefined } = {},
) {
  const sqliteInsert = options.sqliteConnection ? createSqliteBatchInsert(options.sqliteConnection) : undefined;
  return {
    async insertMany(entries: readonly RequestLogEntry[]): Promise<void> {
      if (entries.length === 0) return;
      if (sqliteInsert) return sqliteInsert(entries);
      // Request ids are unique: a replayed batch (after a failed flush) inserts nothing twice.
      await db
        .insertInto("request_log")
        .values(entries.map(toRow))
        .onConflict((conflict) => conflict.column("request_id").doNothing())
        .execute();
    },

    async search(query: RequestLogQuery): Promise<{ data: RequestLogEntry[]; nextCursor: string | null }> {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
      let select = db.selectFrom("request_log").selectAll();
      if (query.tenantId !== undefined) select = select.where("tenant_id", "=", query.tenantId);
      if (query.endpoint !== undefined) select = select.where("endpoint", "=", query.endpoint);
      if (query.status !== undefined) select = select.where("status", "=", query.status);
      if (query.from !== undefined) select = select.where("time", ">=", query.from);
      if (query.to !== undefined) select = select.where("time", "<", query.to);
      if (query.cursor !== undefined) {
        const [time, requestId] = decodeCursor(query.cursor);
        select = select.where((eb) =>
          eb.or([eb("time", "<", time), eb.and([eb("time", "=", time), eb("request_id", "<", requestId)])]),
        );
      }
      const rows = await select
        .orderBy("time", "desc")
        .orderBy("request_id", "desc")
        .limit(limit + 1)
        .execute();
      const data = rows.slice(0, limit).map(toEntry);
      const last = data.at(-1);
      return { data, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
    },

    async get(tenantId: string | undefined, requestId: string): Promise<RequestLogEntry | undefined> {
      let select = db.selectFrom("request_log").selectAll().where("request_id", "=", requestId);
      if (tenantId !== undefined) select = select.where("tenant_id", "=", tenantId);
      const row = await select.executeTakeFirst();
      return row ? toEntry(row) : undefined;
    },

    /** Deletes entries older than `cutoff`, in batches so a large backlog never locks the table long. */
    async deleteOlderThan(cutoff: string, batchSize = 5_000): Promise<number> {
      let deleted = 0;
      for (;;) {
        const ids = await db
          .selectFrom("request_log")
          .select("request_id")
          .where("time", "<", cutoff)
          .limit(batchSize)
          .execute();
        if (ids.length === 0) return deleted;
        const result = await db
          .deleteFrom("request_log")
          .where(
            "request_id",
            "in",
            ids.map((row) => row.request_id),
          )
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
    },

    /** Erases every entry of one end user of one tenant (a data-subject request). */
    async eraseEndUser(tenantId: string, endUserHash: string): Promise<number> {
      const result = await db
        .deleteFrom("request_log")
        .where("tenant_id", "=", tenantId)
        .where("end_user_hash", "=", endUserHash)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type RequestLogRepository = ReturnType<typeof createRequestLogRepository>;
