import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import type { Database } from "../../storage/schema.js";
import { dayOf, type UsageRecord } from "./usage-record.js";

const recordColumns = [
  "request_id",
  "tenant_id",
  "key_id",
  "endpoint",
  "target",
  "model",
  "kind",
  "status",
  "input_tokens",
  "output_tokens",
  "items",
  "price_version_id",
  "currency",
  "cost_micros",
  "input_cost_micros",
  "output_cost_micros",
  "time",
] as const;

const rollupColumns = [
  "tenant_id",
  "day",
  "endpoint",
  "key_id",
  "requests",
  "input_tokens",
  "output_tokens",
  "items",
  "cost_micros",
] as const;

/** Rows per statement: 1,000 × 17 parameters stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const rowsPerStatement = 1_000;

type Dialect = DatabaseHandle["dialect"];

function placeholders(dialect: Dialect, rows: number, columns: number): string {
  const groups: string[] = [];
  let index = 1;
  for (let row = 0; row < rows; row += 1) {
    const marks: string[] = [];
    for (let column = 0; column < columns; column += 1) {
      marks.push(dialect === "postgres" ? `$${index}` : "?");
      index += 1;
    }
    groups.push(`(${marks.join(",")})`);
  }
  return groups.join(",");
}

// Statement texts depend only on dialect and row count; batches mostly have the same size, so
// cache them (building a 17,000-placeholder string per batch would cost more than the insert).
const statementCache = new Map<string, string>();

function cached(key: string, build: () => string): string {
  let text = statementCache.get(key);
  if (text === undefined) {
    text = build();
    if (statementCache.size > 64) statementCache.clear();
    statementCache.set(key, text);
  }
  return text;
}

function insertRecordsSql(dialect: Dialect, rows: number): string {
  return cached(`records:${dialect}:${rows}`, () => {
    return (
      `insert into usage_records (${recordColumns.join(",")}) values ${placeholders(dialect, rows, recordColumns.length)}` +
      " on conflict (request_id) do nothing returning request_id"
    );
  });
}

function upsertRollupSql(dialect: Dialect, rows: number): string {
  return cached(`rollup:${dialect}:${rows}`, () => {
    const sums = rollupColumns
      .slice(4)
      .map((column) => `${column} = usage_daily.${column} + excluded.${column}`)
      .join(", ");
    return (
      `insert into usage_daily (${rollupColumns.join(",")}) values ${placeholders(dialect, rows, rollupColumns.length)}` +
      ` on conflict (tenant_id, day, endpoint, key_id) do update set ${sums}`
    );
  });
}

/** Column types for PostgreSQL's unnest() form; the order matches `recordColumns`. */
const recordColumnTypes = [
  "text",
  "text",
  "text",
  "text",
  "text",
  "text",
  "text",
  "text",
  "bigint",
  "bigint",
  "bigint",
  "text",
  "text",
  "bigint",
  "bigint",
  "bigint",
  "text",
] as const;

// PostgreSQL: one statement per batch whatever its size, with 17 array parameters instead of
// 17 × rows scalar ones; parsing and binding a huge VALUES list costs more than the insert.
function insertRecordsUnnestSql(): string {
  return cached("records:unnest", () => {
    const arrays = recordColumnTypes.map((type, index) => `$${index + 1}::${type}[]`).join(",");
    return (
      `insert into usage_records (${recordColumns.join(",")}) select * from unnest(${arrays})` +
      " on conflict (request_id) do nothing returning request_id"
    );
  });
}

/** A record's values in `recordColumns` order (the bench's raw-SQLite reference uses it too). */
export function recordValues(r: UsageRecord): unknown[] {
  return [
    r.requestId,
    r.tenantId,
    r.keyId,
    r.endpoint,
    r.target,
    r.model,
    r.kind,
    r.status,
    r.inputTokens,
    r.outputTokens,
    r.items,
    r.priceVersionId,
    r.currency,
    r.costMicros,
    r.inputCostMicros,
    r.outputCostMicros,
    r.time,
  ];
}

interface RollupRow {
  tenantId: string;
  day: string;
  endpoint: string;
  keyId: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  items: number;
  costMicros: number;
}

/** Daily rollup increments for the records that were new, in a fixed key order (no deadlocks between nodes). */
function rollupRows(fresh: readonly UsageRecord[]): RollupRow[] {
  const rollups = new Map<string, RollupRow>();
  for (const record of fresh) {
    const day = dayOf(record.time);
    const key = `${record.tenantId}\u0000${day}\u0000${record.endpoint}\u0000${record.keyId}`;
    let row = rollups.get(key);
    if (row === undefined) {
      row = {
        tenantId: record.tenantId,
        day,
        endpoint: record.endpoint,
        keyId: record.keyId,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        items: 0,
        costMicros: 0,
      };
      rollups.set(key, row);
    }
    row.requests += 1;
    row.inputTokens += record.inputTokens;
    row.outputTokens += record.outputTokens;
    row.items += record.items;
    row.costMicros += record.costMicros;
  }
  const ordered = [...rollups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  for (const row of ordered) {
    if (!Number.isSafeInteger(row.costMicros) || !Number.isSafeInteger(row.inputTokens + row.outputTokens)) {
      throw new Error(`usage rollup for ${row.tenantId}/${row.day} leaves the safe-integer range`);
    }
  }
  return ordered;
}

export interface BatchResult {
  /** Records that were new. */
  inserted: number;
  /** Records whose request id was already in the ledger (or twice in this batch): ignored. */
  duplicates: number;
}

/**
 * Writes a batch of usage records in ONE transaction: multi-row `INSERT ... ON CONFLICT
 * (request_id) DO NOTHING RETURNING request_id`, then the daily rollup rows of exactly the
 * records that were new (so a replayed record never counts twice), upserted in a fixed key order
 * (two nodes upserting the same rows cannot deadlock). Either all of it commits or none does.
 */
export async function writeUsageBatch(
  handle: DatabaseHandle,
  records: readonly UsageRecord[],
  options: { sqliteConnection?: BetterSqlite3.Database | undefined } = {},
): Promise<BatchResult> {
  const unique = new Map<string, UsageRecord>();
  for (const record of records) if (!unique.has(record.requestId)) unique.set(record.requestId, record);
  if (unique.size === 0) return { inserted: 0, duplicates: records.length };
  const batch = [...unique.values()];
  const sqlite = handle.dialect === "sqlite" ? options.sqliteConnection : undefined;
  const inserted =
    sqlite === undefined
      ? await handle.db.transaction().execute((trx) => writeInTransaction(trx, handle.dialect, batch))
      : // Holding kysely's connection (its mutex) keeps any kysely transaction from being open on
        // this connection while the synchronous better-sqlite3 transaction runs.
        await handle.db.connection().execute(async () => writeWithPreparedStatements(sqlite, batch));
  return { inserted, duplicates: records.length - inserted };
}

interface PreparedLedgerStatements {
  insert: BetterSqlite3.Statement;
  upsert: BetterSqlite3.Statement;
  write: (batch: readonly UsageRecord[]) => number;
}

const preparedByConnection = new WeakMap<BetterSqlite3.Database, PreparedLedgerStatements>();

/**
 * SQLite fast path, used when the handle's better-sqlite3 connection is passed in: the same
 * transaction (records, then rollups of the new ones) with cached single-row prepared
 * statements. SQLite compiles a multi-row VALUES list afresh on every batch, which costs about
 * as much as inserting; a prepared statement in a loop is the physical best (BENCHMARKS.md).
 */
function writeWithPreparedStatements(connection: BetterSqlite3.Database, batch: readonly UsageRecord[]): number {
  let prepared = preparedByConnection.get(connection);
  if (prepared === undefined) {
    const insert = connection.prepare(
      `insert into usage_records (${recordColumns.join(",")}) values (${recordColumns.map(() => "?").join(",")}) on conflict (request_id) do nothing`,
    );
    const upsert = connection.prepare(
      `insert into usage_daily (${rollupColumns.join(",")}) values (${rollupColumns.map(() => "?").join(",")})` +
        ` on conflict (tenant_id, day, endpoint, key_id) do update set ${rollupColumns
          .slice(4)
          .map((column) => `${column} = usage_daily.${column} + excluded.${column}`)
          .join(", ")}`,
    );
    const write = connection.transaction((rows: readonly UsageRecord[]) => {
      const fresh: UsageRecord[] = [];
      for (const record of rows) if (insert.run(recordValues(record)).changes === 1) fresh.push(record);
      for (const row of rollupRows(fresh)) {
        upsert.run(
          row.tenantId,
          row.day,
          row.endpoint,
          row.keyId,
          row.requests,
          row.inputTokens,
          row.outputTokens,
          row.items,
          row.costMicros,
        );
      }
      return fresh.length;
    });
    prepared = { insert, upsert, write };
    preparedByConnection.set(connection, prepared);
  }
  return prepared.write(batch);
}

async function writeInTransaction(
  trx: Transaction<Database> | Kysely<Database>,
  dialect: Dialect,
  batch: readonly UsageRecord[],
): Promise<number> {
  const insertedIds = new Set<string>();
  if (dialect === "postgres") {
    const columns: unknown[][] = recordColumns.map(() => []);
    for (const record of batch) {
      const values = recordValues(record);
      for (let index = 0; index < values.length; index += 1) (columns[index] as unknown[]).push(values[index]);
    }
    const result = await trx.executeQuery<{ request_id: string }>(CompiledQuery.raw(insertRecordsUnnestSql(), columns));
    for (const row of result.rows) insertedIds.add(row.request_id);
  } else {
    for (let start = 0; start < batch.length; start += rowsPerStatement) {
      const chunk = batch.slice(start, start + rowsPerStatement);
      const parameters: unknown[] = [];
      for (const record of chunk) parameters.push(...recordValues(record));
      const result = await trx.executeQuery<{ request_id: string }>(
        CompiledQuery.raw(insertRecordsSql(dialect, chunk.length), parameters),
      );
      for (const row of result.rows) insertedIds.add(row.request_id);
    }
  }
  if (insertedIds.size === 0) return 0;

  const ordered = rollupRows(batch.filter((record) => insertedIds.has(record.requestId)));
  for (let start = 0; start < ordered.length; start += rowsPerStatement) {
    const chunk = ordered.slice(start, start + rowsPerStatement);
    const parameters: unknown[] = [];
    for (const r of chunk) {
      parameters.push(
        r.tenantId,
        r.day,
        r.endpoint,
        r.keyId,
        r.requests,
        r.inputTokens,
        r.outputTokens,
        r.items,
        r.costMicros,
      );
    }
    await trx.executeQuery(CompiledQuery.raw(upsertRollupSql(dialect, chunk.length), parameters));
  }
  return insertedIds.size;
}
