/**
 * Ledger benchmarks: batched write throughput on SQLite and PostgreSQL against a raw
 * better-sqlite3 prepared-statement insert loop (the physical reference, same run), the cost
 * of `record()` on the request path (journal synchronous NORMAL vs FULL), and usage-query
 * latency on a large generated ledger.
 *
 *   node --import tsx bench/ledger/run.ts [--records 200000] [--rows 10000000] [--runs 3]
 *                                         [--postgres URL | --skip-postgres] [--skip-queries]
 *                                         [--skip-portable]   (only the server's SQLite path)
 *
 * PostgreSQL defaults to postgres://postgres@127.0.0.1:5432/test (a fresh database is created
 * and dropped). Prints one table per part; medians of `--runs` runs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { sql } from "kysely";
import pg from "pg";
import { createInvoiceService } from "../../src/commerce/invoices/invoice-service.js";
import { createLedger } from "../../src/commerce/ledger/ledger.js";
import { makeUsageRecord } from "../../src/commerce/ledger/testing/records.js";
import { openSqliteWithConnection } from "../../src/commerce/ledger/testing/sqlite-with-connection.js";
import { createUsageQueries } from "../../src/commerce/ledger/usage-query.js";
import type { UsageRecord } from "../../src/commerce/ledger/usage-record.js";
import { recordValues, writeUsageBatch } from "../../src/commerce/ledger/write-batch.js";
import { createPriceRepository } from "../../src/commerce/pricing/price-repository.js";
import { openDatabase } from "../../src/storage/database.js";
import type { DatabaseHandle } from "../../src/storage/database-handle.js";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    rows: { type: "string", default: "10000000" },
    runs: { type: "string", default: "3" },
    postgres: { type: "string", default: "postgres://postgres@127.0.0.1:5432/test" },
    "skip-postgres": { type: "boolean", default: false },
    "skip-queries": { type: "boolean", default: false },
    "skip-portable": { type: "boolean", default: false },
  },
});
const recordCount = Number(args.records);
const generatedRows = Number(args.rows);
const runs = Number(args.runs);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

function records(count: number, run: string): UsageRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeUsageRecord(i, { requestId: `req_${run}_${i}`, tenantId: `ten_${i % 50}`, keyId: `key_${i % 500}` }),
  );
}

// ---- the physical reference: better-sqlite3, one prepared INSERT per row, one transaction ----
function rawSqliteInsert(rows: UsageRecord[]): number {
  const dir = mkdtempSync(join(tmpdir(), "bench-raw-"));
  const db = new BetterSqlite3(join(dir, "raw.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`create table usage_records (request_id text primary key, tenant_id text not null, key_id text not null,
    endpoint text not null, target text, model text, kind text not null, status text not null, input_tokens bigint not null,
    output_tokens bigint not null, items bigint not null, price_version_id text, currency text not null,
    cost_micros bigint not null, input_cost_micros bigint not null, output_cost_micros bigint not null, time text not null)`);
  db.exec("create index usage_records_tenant_time_index on usage_records (tenant_id, time, request_id)");
  const insert = db.prepare(`insert into usage_records values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const started = performance.now();
  db.transaction(() => {
    for (const r of rows) {
      insert.run(...recordValues(r));
    }
  })();
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rows.length / seconds;
}

interface Target {
  name: string;
  open(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
  /** SQLite fast path: the handle's better-sqlite3 connection, for cached prepared statements. */
  connection?: () => BetterSqlite3.Database | undefined;
}

function sqlitePreparedTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), "bench-ledger-prepared-"));
  let connection: BetterSqlite3.Database | undefined;
  return {
    // What `modelport serve` uses on SQLite: the handle's own connection (DatabaseHandle.sqliteConnection).
    name: "SQLite (prepared statements, server path)",
    open: async () => {
      const opened = await openSqliteWithConnection(dir);
      connection = opened.connection;
      return opened.handle;
    },
    connection: () => connection,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(join(tmpdir(), "bench-ledger-"));
  return {
    name: "SQLite (multi-row INSERT, portable path)",
    open: () => openDatabase({ dataDir: dir }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(adminUrl: string): Promise<Target> {
  const name = `mp_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name: "PostgreSQL",
    open: () => openDatabase({ databaseUrl: url.toString(), dataDir: "/nonexistent" }),
    cleanup: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * End to end: every record through the request-path API (journal + buffer), then flush; the
 * writer runs whenever the producer yields. `sync`: record(), one journal commit per record.
 * `grouped`: recordGrouped() with `concurrency` requests completing per event-loop turn, one
 * journal commit per turn.
 */
async function ledgerThroughput(
  handle: DatabaseHandle,
  rows: UsageRecord[],
  batchSize: number,
  mode: "sync" | "grouped",
  sqliteConnection: BetterSqlite3.Database | undefined,
  concurrency = 500,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "bench-journal-"));
  const ledger = createLedger({
    handle,
    journalPath: join(dir, "journal.db"),
    batchSize,
    flushIntervalMs: 50,
    sqliteConnection,
  });
  const started = performance.now();
  if (mode === "sync") {
    for (let i = 0; i < rows.length; i += 1) {
      ledger.record(rows[i] as UsageRecord);
      if (i % batchSize === batchSize - 1) await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    for (let i = 0; i < rows.length; i += concurrency) {
      await Promise.all(rows.slice(i, i + concurrency).map((row) => ledger.recordGrouped(row)));
    }
  }
  await ledger.flush();
  const seconds = (performance.now() - started) / 1000;
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
  return rows.length / seconds;
}

/** The database half alone: writeUsageBatch from memory (records + rollups, one transaction per batch). */
async function batchWriteThroughput(
  handle: DatabaseHandle,
  rows: UsageRecord[],
  batchSize: number,
  sqliteConnection: BetterSqlite3.Database | undefined,
): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < rows.length; i += batchSize) {
    await writeUsageBatch(handle, rows.slice(i, i + batchSize), { sqliteConnection });
  }
  return rows.length / ((performance.now() - started) / 1000);
}

/** The request-path half alone: record() calls per second (journal append), writer never runs. */
function recordCost(handle: DatabaseHandle, rows: UsageRecord[], synchronous: "normal" | "full"): number {
  const dir = mkdtempSync(join(tmpdir(), "bench-journal-"));
  const ledger = createLedger({
    handle,
    journalPath: join(dir, "journal.db"),
    batchSize: rows.length + 1,
    flushIntervalMs: 3_600_000,
    maxBufferedRecords: rows.length + 1,
    journalSynchronous: synchronous,
  });
  const started = performance.now();
  for (const row of rows) ledger.record(row);
  const perSecond = rows.length / ((performance.now() - started) / 1000);
  // Not flushed on purpose: the journal is thrown away.
  void ledger.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  return perSecond;
}

async function writeBenchmarks(targets: Target[]): Promise<void> {
  console.log(`\n## Ledger writes: ${format(recordCount)} records per run, median of ${runs} runs\n`);
  console.log("| system | records/s | vs raw better-sqlite3 (same run, median of per-run ratios) |");
  console.log("| --- | ---: | ---: |");
  const raw: number[] = [];
  for (let run = 0; run < runs; run += 1) raw.push(rawSqliteInsert(records(recordCount, `raw${run}`)));
  const reference = median(raw);
  console.log(`| raw better-sqlite3 prepared insert loop, one transaction (reference) | ${format(reference)} | 1.00 |`);
  for (const target of targets) {
    const handle = await target.open();
    const connection = target.connection?.();
    try {
      for (const batchSize of [1_000, 5_000]) {
        const endToEnd: number[] = [];
        const grouped: number[] = [];
        const batchOnly: number[] = [];
        const references: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          // The reference is measured again next to each run: the machine is shared and its load drifts.
          references.push(rawSqliteInsert(records(recordCount, `raw_${target.name.length}_${batchSize}_${run}`)));
          endToEnd.push(
            await ledgerThroughput(handle, records(recordCount, `e${batchSize}_${run}`), batchSize, "sync", connection),
          );
          grouped.push(
            await ledgerThroughput(
              handle,
              records(recordCount, `g${batchSize}_${run}`),
              batchSize,
              "grouped",
              connection,
            ),
          );
          batchOnly.push(
            await batchWriteThroughput(handle, records(recordCount, `b${batchSize}_${run}`), batchSize, connection),
          );
        }
        const ratio = (values: number[]) =>
          median(values.map((value, run) => value / (references[run] as number))).toFixed(2);
        const line = (label: string, values: number[]) =>
          console.log(
            `| ${target.name}: ${label}, batch ${format(batchSize)} | ${format(median(values))} | ${ratio(values)} |`,
          );
        line("record() (journal commit per record) → batch writer", endToEnd);
        line("recordGrouped() (500 per turn, group commit) → batch writer", grouped);
        line("batch write only (records + rollups)", batchOnly);
        console.log(
          `| (raw reference during these runs: ${references.map((value) => format(value)).join(", ")}) | | |`,
        );
      }
      if (target.connection !== undefined) {
        const normal: number[] = [];
        const full: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          normal.push(recordCost(handle, records(Math.min(recordCount, 100_000), `n${run}`), "normal"));
          full.push(recordCost(handle, records(2_000, `f${run}`), "full"));
        }
        console.log(`\n### record() on the request path (journal append only)\n`);
        console.log("| journal synchronous | record() calls/s | µs per call |");
        console.log("| --- | ---: | ---: |");
        console.log(`| NORMAL (survives kill -9) | ${format(median(normal))} | ${(1e6 / median(normal)).toFixed(1)} |`);
        console.log(
          `| FULL (fsync per record; survives power loss) | ${format(median(full))} | ${(1e6 / median(full)).toFixed(1)} |`,
        );
        console.log("");
      }
    } finally {
      await handle.close();
    }
  }
}

// ---- usage queries on a large ledger ----
const tenants = 100;
const keysPerTenant = 10;
const endpoints = 4;
const days = 90;

async function generate(handle: DatabaseHandle, rows: number): Promise<number> {
  const started = performance.now();
  const stepMs = Math.floor((days * 86_400_000) / rows);
  await sql`drop index usage_records_tenant_time_index`.execute(handle.db);
  if (handle.dialect === "sqlite") {
    await sql
      .raw(
        `with recursive s(i) as (select 0 union all select i + 1 from s where i < ${rows - 1})
         insert into usage_records select 'req_g_' || i, 'ten_' || (i % ${tenants}),
           'key_' || (i % ${tenants}) || '_' || ((i / ${tenants}) % ${keysPerTenant}), 'ep_' || ((i / 1000) % ${endpoints}),
           'mock', 'gpt-4o-mini', 'chat', 'ok', 10 + i % 97, i % 13, 0, null, 'USD',
           ((10 + i % 97) * 150000 + 500000) / 1000000 + ((i % 13) * 600000 + 500000) / 1000000,
           ((10 + i % 97) * 150000 + 500000) / 1000000, ((i % 13) * 600000 + 500000) / 1000000,
           strftime('%Y-%m-%dT%H:%M:%fZ', 1735689600 + (i * ${stepMs}) / 1000.0, 'unixepoch') from s`,
      )
      .execute(handle.db);
  } else {
    await sql
      .raw(
        `insert into usage_records select 'req_g_' || i, 'ten_' || (i % ${tenants}),
           'key_' || (i % ${tenants}) || '_' || ((i / ${tenants}) % ${keysPerTenant}), 'ep_' || ((i / 1000) % ${endpoints}),
           'mock', 'gpt-4o-mini', 'chat', 'ok', 10 + i % 97, i % 13, 0, null, 'USD',
           ((10 + i % 97) * 150000 + 500000) / 1000000 + ((i % 13) * 600000 + 500000) / 1000000,
           ((10 + i % 97) * 150000 + 500000) / 1000000, ((i % 13) * 600000 + 500000) / 1000000,
           to_char((timestamptz '2025-01-01 00:00:00+00' + i * interval '${stepMs} milliseconds') at time zone 'UTC',
             'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
         from generate_series(0::bigint, ${rows - 1}) as i`,
      )
      .execute(handle.db);
  }
  await sql`create index usage_records_tenant_time_index on usage_records (tenant_id, time, request_id)`.execute(
    handle.db,
  );
  await sql
    .raw(
      `insert into usage_daily select tenant_id, substr(time, 1, 10), endpoint, key_id, count(*), sum(input_tokens),
         sum(output_tokens), sum(items), sum(cost_micros) from usage_records group by tenant_id, substr(time, 1, 10), endpoint, key_id`,
    )
    .execute(handle.db);
  await sql.raw(handle.dialect === "sqlite" ? "analyze" : "vacuum analyze usage_records").execute(handle.db);
  if (handle.dialect === "postgres") await sql`analyze usage_daily`.execute(handle.db);
  return (performance.now() - started) / 1000;
}

async function time(run: () => Promise<unknown>, repeat = 15): Promise<number> {
  await run(); // warm
  const samples: number[] = [];
  for (let i = 0; i < repeat; i += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

async function queryBenchmarks(targets: Target[]): Promise<void> {
  console.log(
    `\n## Usage queries on ${format(generatedRows)} records (${tenants} tenants × ${keysPerTenant} keys × ${endpoints} endpoints, ${days} days), median ms\n`,
  );
  const header = ["query", ...targets.map((t) => t.name)];
  const results = new Map<string, string[]>();
  const note: string[] = [];
  for (const target of targets) {
    const handle = await target.open();
    try {
      const seconds = await generate(handle, generatedRows);
      note.push(`${target.name}: generated and indexed in ${seconds.toFixed(0)} s`);
      const queries = createUsageQueries(handle);
      const invoices = createInvoiceService({ handle, prices: createPriceRepository(handle) });
      const cases: [string, () => Promise<unknown>][] = [
        [
          "tenant, one month by day (rollup)",
          () =>
            queries.usage({
              tenantId: "ten_42",
              from: "2025-02-01T00:00:00Z",
              to: "2025-03-01T00:00:00Z",
              groupBy: "day",
            }),
        ],
        [
          "tenant + key, 90 days by day",
          () =>
            queries.usage({
              tenantId: "ten_42",
              keyId: "key_42_3",
              from: "2025-01-01T00:00:00Z",
              to: "2025-04-01T00:00:00Z",
              groupBy: "day",
            }),
        ],
        [
          "tenant + endpoint, one day",
          () =>
            queries.usage({
              tenantId: "ten_7",
              endpoint: "ep_2",
              from: "2025-02-10T00:00:00Z",
              to: "2025-02-11T00:00:00Z",
            }),
        ],
        [
          "tenant, ragged range (partial first and last day)",
          () =>
            queries.usage({
              tenantId: "ten_7",
              from: "2025-02-10T13:30:00Z",
              to: "2025-02-20T08:15:00Z",
              groupBy: "day",
            }),
        ],
        [
          "export: one page of 1,000 records",
          () => queries.exportRecords({ tenantId: "ten_3", from: "2025-03-01T00:00:00Z", limit: 1_000 }),
        ],
        ["invoice draft: tenant-month (groups over ~33k records)", () => invoices.buildDraft("ten_5", "2025-02")],
      ];
      for (const [label, run] of cases) {
        const row = results.get(label) ?? [];
        row.push((await time(run)).toFixed(2));
        results.set(label, row);
      }
    } finally {
      await handle.close();
    }
  }
  console.log(`| ${header.join(" | ")} |`);
  console.log(`| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`);
  for (const [label, row] of results) console.log(`| ${label} | ${row.join(" | ")} |`);
  console.log(`\n${note.join("; ")}`);
}

const writeTargets: Target[] = args["skip-portable"]
  ? [sqlitePreparedTarget()]
  : [sqliteTarget(), sqlitePreparedTarget()];
if (!args["skip-postgres"]) writeTargets.push(await postgresTarget(args.postgres));
try {
  await writeBenchmarks(writeTargets);
} finally {
  for (const target of writeTargets) await target.cleanup();
}
if (!args["skip-queries"]) {
  const queryTargets: Target[] = [sqliteTarget()];
  if (!args["skip-postgres"]) queryTargets.push(await postgresTarget(args.postgres));
  try {
    await queryBenchmarks(queryTargets);
  } finally {
    for (const target of queryTargets) await target.cleanup();
  }
}
