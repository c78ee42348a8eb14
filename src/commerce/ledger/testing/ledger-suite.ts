import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type BetterSqlite3 from "better-sqlite3";
import { sql } from "kysely";
import { ModelportError } from "../../../core/errors.js";
import type { DatabaseHandle } from "../../../storage/database-handle.js";
import { integerFromDatabase } from "../../money/database-integer.js";
import { createPriceRepository } from "../../pricing/price-repository.js";
import { createPriceResolver } from "../../pricing/price-resolver.js";
import { openJournal } from "../journal.js";
import { createLedger } from "../ledger.js";
import { createUsageMeter } from "../meter.js";
import { createUsageQueries } from "../usage-query.js";
import type { UsageRecord } from "../usage-record.js";
import { writeUsageBatch } from "../write-batch.js";
import { makeUsageRecord } from "./records.js";

/** Opens a fresh, migrated database for one suite; `cleanup` drops it. */
export type OpenLedgerDatabase = () => Promise<{ open: () => Promise<DatabaseHandle>; cleanup: () => Promise<void> }>;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function countRecords(handle: DatabaseHandle, tenantId?: string): Promise<number> {
  let query = handle.db.selectFrom("usage_records").select(sql<unknown>`count(*)`.as("n"));
  if (tenantId !== undefined) query = query.where("tenant_id", "=", tenantId);
  return integerFromDatabase((await query.executeTakeFirstOrThrow()).n, "n");
}

async function rollupRequests(handle: DatabaseHandle, tenantId: string): Promise<number> {
  const row = await handle.db
    .selectFrom("usage_daily")
    .select(sql<unknown>`sum(requests)`.as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return integerFromDatabase(row.n, "n");
}

/**
 * The ledger's behaviour on one database: idempotence, batching by size and interval, recovery
 * after simulated crashes at each point of a record's path, usage queries and export.
 * SQLite and PostgreSQL run it unchanged.
 */
export function ledgerSuite(
  name: string,
  openDatabase: OpenLedgerDatabase,
  /** Extra ledger options per handle (the SQLite prepared-statement fast path passes its connection). */
  extra: (handle: DatabaseHandle) => { sqliteConnection?: BetterSqlite3.Database | undefined } = () => ({}),
): void {
  describe(`usage ledger on ${name}`, () => {
    let handle: DatabaseHandle;
    let openAnother: () => Promise<DatabaseHandle>;
    let cleanup: () => Promise<void>;
    let journalDir: string;
    let journalCount = 0;
    const nextJournal = () => {
      journalCount += 1;
      return join(journalDir, `journal-${journalCount}.db`);
    };

    before(async () => {
      const opened = await openDatabase();
      openAnother = opened.open;
      cleanup = opened.cleanup;
      handle = await opened.open();
      journalDir = await mkdtemp(join(tmpdir(), "modelport-journal-"));
    });
    after(async () => {
      await handle?.close();
      await cleanup?.();
      if (journalDir !== undefined) await rm(journalDir, { recursive: true, force: true });
    });

    it("records, flushes, and reads back every field exactly (bigints included)", async () => {
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const record = makeUsageRecord(1, {
        tenantId: "ten_fields",
        inputTokens: 123_456_789,
        items: 3,
        costMicros: 9_007_199_254,
        inputCostMicros: 1_000_000_000,
        outputCostMicros: 7,
        target: null,
        model: null,
        priceVersionId: "price_x",
        status: "partial",
        kind: "predict",
      });
      ledger.record(record);
      assert.equal(await countRecords(handle, "ten_fields"), 0, "not written before a flush");
      await ledger.flush();
      const page = await createUsageQueries(handle).exportRecords({ tenantId: "ten_fields" });
      assert.deepEqual(page.records, [record]);
      assert.equal(ledger.stats().journalPending, 0);
      await ledger.close();
    });

    it("is idempotent by request id: twice in one batch, across batches and across ledgers → one record", async () => {
      const tenantId = "ten_idem";
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const first = makeUsageRecord(10, { tenantId });
      ledger.record(first);
      ledger.record({ ...first, inputTokens: 999 }); // a replayed request with other counts: ignored
      await ledger.flush();
      ledger.record(first);
      await ledger.flush();
      await ledger.close();
      const other = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      other.record(first);
      await other.close();
      assert.equal(await countRecords(handle, tenantId), 1);
      assert.equal(await rollupRequests(handle, tenantId), 1, "the rollup counted it once");
      const [stored] = (await createUsageQueries(handle).exportRecords({ tenantId })).records;
      assert.equal(stored?.inputTokens, first.inputTokens, "the first write wins");
      assert.equal(other.stats().duplicates, 1);
    });

    it("writes a batch as soon as batchSize records are buffered, not before", async () => {
      const tenantId = "ten_size";
      const ledger = createLedger({
        ...extra(handle),
        handle,
        journalPath: nextJournal(),
        batchSize: 10,
        flushIntervalMs: 60_000,
      });
      for (let i = 0; i < 9; i += 1) ledger.record(makeUsageRecord(100 + i, { tenantId }));
      await sleep(150);
      assert.equal(await countRecords(handle, tenantId), 0, "9 < batchSize: still waiting");
      ledger.record(makeUsageRecord(109, { tenantId }));
      const deadline = Date.now() + 5_000;
      while ((await countRecords(handle, tenantId)) < 10 && Date.now() < deadline) await sleep(20);
      assert.equal(await countRecords(handle, tenantId), 10);
      assert.ok(ledger.stats().batches >= 1);
      await ledger.close();
    });

    it("writes on the interval without a flush call", async () => {
      const tenantId = "ten_interval";
      const ledger = createLedger({
        ...extra(handle),
        handle,
        journalPath: nextJournal(),
        batchSize: 1_000,
        flushIntervalMs: 40,
      });
      for (let i = 0; i < 3; i += 1) ledger.record(makeUsageRecord(200 + i, { tenantId }));
      const deadline = Date.now() + 5_000;
      while ((await countRecords(handle, tenantId)) < 3 && Date.now() < deadline) await sleep(20);
      assert.equal(await countRecords(handle, tenantId), 3);
      while (ledger.stats().journalPending > 0 && Date.now() < deadline) await sleep(10);
      assert.equal(ledger.stats().journalPending, 0, "journal entries are deleted once written");
      await ledger.close();
    });

    it("recover() moves entries a crashed process left in the journal, before newer records", async () => {
      const tenantId = "ten_recover";
      const path = nextJournal();
      const crashed = openJournal(path);
      for (let i = 0; i < 5; i += 1) crashed.append(makeUsageRecord(300 + i, { tenantId }));
      crashed.close(); // the process died before its writer ran

      const ledger = createLedger({
        ...extra(handle),
        handle,
        journalPath: path,
        batchSize: 2,
        flushIntervalMs: 60_000,
      });
      // Records arriving before recover() must not let the old entries be skipped or deleted.
      ledger.record(makeUsageRecord(305, { tenantId }));
      ledger.record(makeUsageRecord(306, { tenantId }));
      assert.equal(await ledger.recover(), 5);
      assert.equal(await countRecords(handle, tenantId), 7);
      assert.equal(ledger.stats().journalPending, 0);
      assert.equal(await ledger.recover(), 0, "a second recover has nothing to replay");
      await ledger.close();
    });

    it("a crash after the database commit but before the journal delete replays without double counting", async () => {
      const tenantId = "ten_replay";
      const path = nextJournal();
      const records = Array.from({ length: 4 }, (_, i) => makeUsageRecord(400 + i, { tenantId }));
      const crashed = openJournal(path);
      for (const record of records) crashed.append(record);
      await writeUsageBatch(handle, records, extra(handle)); // committed…
      crashed.close(); // …but the journal still holds them
      const before = await createUsageQueries(handle).usage({
        tenantId,
        from: "2025-01-01T00:00:00Z",
        to: "2025-02-01T00:00:00Z",
      });

      const ledger = createLedger({ ...extra(handle), handle, journalPath: path, flushIntervalMs: 60_000 });
      assert.equal(await ledger.recover(), 4);
      const afterReplay = await createUsageQueries(handle).usage({
        tenantId,
        from: "2025-01-01T00:00:00Z",
        to: "2025-02-01T00:00:00Z",
      });
      assert.equal(await countRecords(handle, tenantId), 4);
      assert.equal(await rollupRequests(handle, tenantId), 4);
      assert.deepEqual(afterReplay, before);
      assert.equal(ledger.stats().duplicates, 4);
      await ledger.close();
    });

    it("keeps records in the journal while the database fails, and a restart recovers them", async () => {
      const tenantId = "ten_dbdown";
      const path = nextJournal();
      const doomed = await openAnother();
      const ledger = createLedger({ ...extra(doomed), handle: doomed, journalPath: path, flushIntervalMs: 60_000 });
      ledger.record(makeUsageRecord(500, { tenantId }));
      ledger.record(makeUsageRecord(501, { tenantId }));
      await doomed.close(); // the database goes away
      await assert.rejects(ledger.flush());
      assert.equal(ledger.stats().failedBatches >= 1, true);
      await assert.rejects(ledger.close()); // the shutdown flush fails; the journal keeps the records
      assert.throws(
        () => ledger.record(makeUsageRecord(502, { tenantId })),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_SHUTTING_DOWN",
      );

      const restarted = createLedger({ ...extra(handle), handle, journalPath: path, flushIntervalMs: 60_000 });
      assert.equal(await restarted.recover(), 2);
      assert.equal(await countRecords(handle, tenantId), 2);
      await restarted.close();
    });

    it("spills to the journal past maxBufferedRecords and still writes everything in order", async () => {
      const tenantId = "ten_spill";
      const ledger = createLedger({
        ...extra(handle),
        handle,
        journalPath: nextJournal(),
        batchSize: 5,
        maxBufferedRecords: 5,
        flushIntervalMs: 60_000,
      });
      for (let i = 0; i < 23; i += 1) ledger.record(makeUsageRecord(600 + i, { tenantId }));
      assert.equal(ledger.stats().buffered, 5);
      assert.equal(ledger.stats().journalPending, 23);
      await ledger.flush();
      assert.equal(await countRecords(handle, tenantId), 23);
      assert.equal(ledger.stats().journalPending, 0);
      await ledger.close();
    });

    it("one journal belongs to one process: a second ledger on the same file is refused", async () => {
      const path = nextJournal();
      const ledger = createLedger({ ...extra(handle), handle, journalPath: path });
      assert.throws(
        () => createLedger({ ...extra(handle), handle, journalPath: path }),
        (error: unknown) =>
          error instanceof ModelportError &&
          error.code === "MP_STORAGE_ERROR" &&
          /another modelport process/.test(error.message),
      );
      await ledger.close();
    });

    it("recordGrouped: concurrent records share a group commit, resolve once journaled, keep call order", async () => {
      const tenantId = "ten_grouped";
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const grouped = Array.from({ length: 50 }, (_, i) => makeUsageRecord(800 + i, { tenantId }));
      let resolved = 0;
      const promises = grouped.map((record) => ledger.recordGrouped(record).then(() => (resolved += 1)));
      assert.equal(ledger.stats().journalPending, 0, "nothing is journaled until the group commits");
      ledger.record(makeUsageRecord(850, { tenantId })); // commits the pending group first
      assert.equal(ledger.stats().journalPending, 51);
      await Promise.all(promises);
      assert.equal(resolved, 50);
      const late = ledger.recordGrouped(makeUsageRecord(851, { tenantId }));
      await ledger.flush(); // flush includes a group still waiting for its turn
      await late;
      assert.equal(await countRecords(handle, tenantId), 52);
      const ids = (await createUsageQueries(handle).exportRecords({ tenantId })).records.map((r) => r.requestId);
      assert.equal(ids.length, 52);
      await assert.rejects(
        ledger.recordGrouped(makeUsageRecord(852, { tenantId, inputTokens: -1 })),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_INTERNAL",
      );
      await ledger.close();
      await assert.rejects(
        ledger.recordGrouped(makeUsageRecord(853, { tenantId })),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_SHUTTING_DOWN",
      );
    });

    it("rejects malformed records on the request path and journals nothing", async () => {
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const bad: [Partial<UsageRecord>, RegExp][] = [
        [{ requestId: "" }, /requestId/],
        [{ inputTokens: -1 }, /inputTokens/],
        [{ outputTokens: 1.5 }, /outputTokens/],
        [{ costMicros: Number.NaN }, /costMicros/],
        [{ costMicros: 0, inputCostMicros: 5 }, /less than its input and output parts/],
        [{ kind: "image" as never }, /kind/],
        [{ status: "done" as never }, /status/],
        [{ time: "2025-01-01" }, /time/],
      ];
      for (const [override, pattern] of bad) {
        assert.throws(
          () => ledger.record(makeUsageRecord(700, override)),
          (error: unknown) =>
            error instanceof ModelportError && error.code === "MP_INTERNAL" && pattern.test(error.message),
        );
      }
      assert.equal(ledger.stats().journalPending, 0);
      await ledger.close();
    });

    it("usage(): rollups plus ragged day ends equal a brute-force sum, for random ranges and filters", async () => {
      const tenantId = "ten_query";
      const random = seeded(2025);
      const start = Date.UTC(2025, 2, 1);
      const records: UsageRecord[] = [];
      for (let i = 0; i < 400; i += 1) {
        records.push(
          makeUsageRecord(10_000 + i, {
            tenantId,
            keyId: `key_${Math.floor(random() * 3)}`,
            endpoint: ["chat-small", "embed", "iris"][Math.floor(random() * 3)] as string,
            outputTokens: Math.floor(random() * 50),
            items: Math.floor(random() * 4),
            time: new Date(start + Math.floor(random() * 5 * 86_400_000)).toISOString(),
          }),
        );
      }
      records.push(makeUsageRecord(20_000, { tenantId: "ten_other", time: new Date(start + 3_600_000).toISOString() }));
      const ledger = createLedger({
        ...extra(handle),
        handle,
        journalPath: nextJournal(),
        batchSize: 64,
        flushIntervalMs: 60_000,
      });
      for (const record of records) ledger.record(record);
      await ledger.close();

      const queries = createUsageQueries(handle);
      for (let trial = 0; trial < 25; trial += 1) {
        const a = start - 86_400_000 + Math.floor(random() * 7 * 86_400_000);
        const b = a + Math.floor(random() * 4 * 86_400_000);
        // Some trials use exact day boundaries, which take the rollup-only path.
        const from = trial % 5 === 0 ? Math.floor(a / 86_400_000) * 86_400_000 : a;
        const to = trial % 5 === 0 ? Math.ceil(b / 86_400_000) * 86_400_000 : b;
        const keyId = trial % 3 === 1 ? "key_1" : undefined;
        const endpoint = trial % 4 === 2 ? "embed" : undefined;
        const matching = records.filter(
          (r) =>
            r.tenantId === tenantId &&
            Date.parse(r.time) >= from &&
            Date.parse(r.time) < to &&
            (keyId === undefined || r.keyId === keyId) &&
            (endpoint === undefined || r.endpoint === endpoint),
        );
        const report = await queries.usage({
          tenantId,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          keyId,
          endpoint,
          groupBy: "day",
        });
        const sum = (pick: (r: UsageRecord) => number) => matching.reduce((total, r) => total + pick(r), 0);
        assert.deepEqual(
          report.totals,
          {
            requests: matching.length,
            inputTokens: sum((r) => r.inputTokens),
            outputTokens: sum((r) => r.outputTokens),
            items: sum((r) => r.items),
            costMicros: sum((r) => r.costMicros),
          },
          `trial ${trial}`,
        );
        const days = new Set(matching.map((r) => r.time.slice(0, 10)));
        assert.deepEqual(
          report.days?.map((day) => day.day),
          [...days].sort(),
        );
        assert.equal(
          report.days?.reduce((total, day) => total + day.costMicros, 0),
          report.totals.costMicros,
        );
      }
      await assert.rejects(
        queries.usage({ tenantId, from: "yesterday", to: "2025-01-01T00:00:00Z" }),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_INVALID_REQUEST",
      );
    });

    it("exportRecords pages through a tenant's records in time order with a cursor", async () => {
      const tenantId = "ten_export";
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const records = Array.from({ length: 23 }, (_, i) =>
        // Pairs of records share a timestamp, so the request id must break ties.
        makeUsageRecord(30_000 + i, {
          tenantId,
          time: new Date(Date.UTC(2025, 3, 1) + Math.floor(i / 2)).toISOString(),
        }),
      );
      for (const record of [...records].reverse()) ledger.record(record);
      await ledger.close();
      const queries = createUsageQueries(handle);
      const seen: UsageRecord[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await queries.exportRecords({ tenantId, limit: 5, cursor });
        seen.push(...page.records);
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined);
      assert.equal(pages, 5);
      assert.deepEqual(
        seen.map((r) => r.requestId),
        records.map((r) => r.requestId),
      );
      const filtered = await queries.exportRecords({ tenantId: "ten_nobody" });
      assert.deepEqual(filtered, { records: [], nextCursor: null });
      await assert.rejects(
        queries.exportRecords({ tenantId, cursor: "garbage" }),
        (error: unknown) => error instanceof ModelportError && error.param === "cursor",
      );
      await assert.rejects(queries.exportRecords({ tenantId, limit: 0 }), /limit/);
    });

    it("the meter prices a request at the version in effect and records it", async () => {
      const repository = createPriceRepository(handle);
      await repository.addPriceVersion({
        endpoint: "metered",
        inputPerMillionTokensMicros: 150_000,
        outputPerMillionTokensMicros: 600_000,
        perRequestMicros: 10,
        perPredictItemMicros: 0,
        effectiveFrom: "2025-01-01T00:00:00Z",
      });
      const later = await repository.addPriceVersion({
        endpoint: "metered",
        inputPerMillionTokensMicros: 300_000,
        outputPerMillionTokensMicros: 1_200_000,
        perRequestMicros: 0,
        perPredictItemMicros: 0,
        effectiveFrom: "2025-06-01T00:00:00Z",
      });
      const prices = createPriceResolver({ repository, refreshIntervalMs: 0 });
      await prices.load();
      const ledger = createLedger({ ...extra(handle), handle, journalPath: nextJournal(), flushIntervalMs: 60_000 });
      const meter = createUsageMeter({ ledger, prices });
      const record = meter.meter({
        requestId: "req_meter_1",
        tenantId: "ten_meter",
        keyId: "key_m",
        endpoint: "metered",
        target: "mock",
        model: "gpt-4o-mini",
        kind: "chat",
        status: "ok",
        inputTokens: 1_000,
        outputTokens: 10,
        items: 0,
        time: Date.UTC(2025, 6, 1),
      });
      // 1000 × 0.30 USD/M = 300 micros; 10 × 1.20 USD/M = 12 micros.
      assert.equal(record.priceVersionId, later.id);
      assert.equal(record.costMicros, 312);
      const free = meter.meter({
        requestId: "req_meter_2",
        tenantId: "ten_meter",
        keyId: "key_m",
        endpoint: "unpriced",
        kind: "predict",
        status: "ok",
        inputTokens: 0,
        outputTokens: 0,
        items: 4,
      });
      assert.equal(free.costMicros, 0);
      assert.equal(free.priceVersionId, null);
      const grouped = await meter.meterGrouped({
        requestId: "req_meter_3",
        tenantId: "ten_meter",
        keyId: "key_m",
        endpoint: "metered",
        kind: "chat",
        status: "partial",
        inputTokens: 1_000_000,
        outputTokens: 0,
        items: 0,
        time: Date.UTC(2025, 1, 1),
      });
      assert.equal(grouped.costMicros, 150_010, "the first version: 0.15 USD/M plus 10 micros per request");
      await ledger.close();
      assert.equal(await countRecords(handle, "ten_meter"), 3);
      prices.close();
    });
  });
}
