import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { defaultJournalFileName, type JournalEntry, type JournalSynchronous, openJournal } from "./journal.js";
import { type UsageRecord, validateUsageRecord } from "./usage-record.js";
import { writeUsageBatch } from "./write-batch.js";

export interface LedgerOptions {
  handle: DatabaseHandle;
  /** The journal file; by convention `<data-dir>/usage-journal.db` (see `journalPathFor`). */
  journalPath: string;
  /** Records per database transaction (default 1,000); a full buffer triggers a write at once. */
  batchSize?: number;
  /** Longest a record waits in the journal before a write starts (default 200 ms). */
  flushIntervalMs?: number;
  /**
   * Records kept in memory for the writer (default 100,000). Beyond it (database down for a
   * while) records stay only in the journal and the writer reads them back from there.
   */
  maxBufferedRecords?: number;
  journalSynchronous?: JournalSynchronous;
  /**
   * SQLite only: the better-sqlite3 connection behind `handle` (the same one kysely uses). When
   * given, batches use cached prepared statements instead of a multi-row INSERT compiled per
   * batch, about twice as fast (BENCHMARKS.md). Leave unset for PostgreSQL.
   */
  sqliteConnection?: BetterSqlite3.Database | undefined;
  /** Background write failures (the writer retries on the next interval); pino's `warn` fits. */
  onError?: (error: unknown) => void;
}

export interface LedgerStats {
  /** Records in memory waiting for the writer. */
  buffered: number;
  /** Records in the journal not yet confirmed in the database (includes `buffered`). */
  journalPending: number;
  /** Records this process has written to the database (new ones only). */
  inserted: number;
  /** Records the database already had (replays, repeated request ids): ignored. */
  duplicates: number;
  batches: number;
  failedBatches: number;
}

export interface Ledger {
  /**
   * Records one billable request. Synchronous and cheap: validates, appends to the local
   * journal (durable against `kill -9` when it returns), and queues the record for the batch
   * writer. Call it BEFORE the response is acknowledged (before the last byte is sent).
   * Throws MP_INTERNAL for a malformed record and MP_SHUTTING_DOWN after `close()`.
   */
  record(usage: UsageRecord): void;
  /**
   * The same guarantee with group commit: records from every request that completes in the same
   * event-loop turn share one journal transaction, and the promise resolves once it is durable.
   * Await it before acknowledging the response. Under load this costs one commit per turn
   * instead of one per request (see BENCHMARKS.md); rejects like `record()` throws.
   */
  recordGrouped(usage: UsageRecord): Promise<void>;
  /**
   * Start-up: moves every journal entry left by a previous run (a crash, a failed shutdown
   * flush) into the database. Idempotent; records already there are ignored. Returns how many
   * entries the journal held.
   */
  recover(): Promise<number>;
  /** Writes everything recorded so far to the database; rejects if the database fails. */
  flush(): Promise<void>;
  /** Shutdown: stops the timer, flushes, closes the journal. Unflushed records stay in the journal for `recover()`. */
  close(): Promise<void>;
  stats(): LedgerStats;
}

/** `<dataDir>/usage-journal.db`: one journal per process and data directory. */
export function journalPathFor(dataDir: string): string {
  return join(dataDir, defaultJournalFileName);
}

/**
 * The exactly-once usage ledger.
 *
 * Path of a record: `record()` → journal (local SQLite, WAL) → memory buffer → batch writer →
 * one transaction in the main database (records + daily rollups, `ON CONFLICT DO NOTHING` on
 * request id) → journal entries deleted. A crash anywhere leaves each record either still in the
 * journal (replayed by `recover()`) or already in the database (a replay is ignored by the
 * unique request id, and the rollup counts only rows the insert reports as new). So every
 * acknowledged request is billed exactly once.
 *
 * The buffer holds journal entries in sequence order, and one batch is in flight at a time, so
 * after a batch commits every entry up to its last sequence number is in the database and can be
 * deleted from the journal with one `seq <= n` statement.
 */
export function createLedger(options: LedgerOptions): Ledger {
  const batchSize = options.batchSize ?? 1_000;
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  const maxBuffered = Math.max(options.maxBufferedRecords ?? 100_000, batchSize);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new Error("ledger batchSize must be a positive integer");
  const journal = openJournal(options.journalPath, { synchronous: options.journalSynchronous ?? "normal" });

  let buffer: JournalEntry[] = [];
  /** The highest sequence number ever put in the buffer. */
  let lastTakenSeq = 0;
  // Entries left by a previous process have lower sequence numbers than anything recorded now;
  // the writer must move them first (the `seq <= n` delete relies on order), so they count as
  // spilled from the start and new records queue behind them even before `recover()` runs.
  const pendingAtStart = journal.count();
  /** True while journal entries exist that are not in the buffer (overflow, or left by a previous run). */
  let spilled = pendingAtStart > 0;
  let recovered = false;
  /** Journal entries left for the next start (after `close()`, when the journal is shut). */
  let pendingAtClose: number | undefined;
  let closed = false;
  let writing: Promise<void> | undefined;
  let kickScheduled = false;
  const stats = { inserted: 0, duplicates: 0, batches: 0, failedBatches: 0 };

  const timer = setInterval(() => kick(), flushIntervalMs);
  timer.unref();

  /** Runs synchronously, so no `record()` can interleave between the read and the flag reset. */
  function refill(): void {
    if (!spilled || buffer.length > 0) return;
    const entries = journal.readAfter(lastTakenSeq, maxBuffered);
    buffer = entries;
    const last = entries.at(-1);
    if (last !== undefined) lastTakenSeq = last.seq;
    if (entries.length < maxBuffered) spilled = false;
  }

  async function writeOneBatch(): Promise<boolean> {
    refill();
    if (buffer.length === 0) return false;
    const batch = buffer.splice(0, batchSize);
    try {
      const result = await writeUsageBatch(
        options.handle,
        batch.map((entry) => entry.record),
        { sqliteConnection: options.sqliteConnection },
      );
      stats.inserted += result.inserted;
      stats.duplicates += result.duplicates;
      stats.batches += 1;
    } catch (error) {
      stats.failedBatches += 1;
      buffer = batch.concat(buffer); // back to the front: order (and the seq <= n delete) depends on it
      throw error;
    }
    const last = batch.at(-1);
    if (last !== undefined) journal.deleteThrough(last.seq);
    return true;
  }

  /** Writes batches until the buffer and journal are drained. One drain at a time. */
  function drain(): Promise<void> {
    writing ??= (async () => {
      try {
        while (await writeOneBatch()) {
          // keep going: records may have arrived while the batch was in flight
        }
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  }

  /**
   * Waits for a batch already in flight, then drains until nothing is left. A background drain
   * that failed is retried here, so `flush` surfaces the database error to its caller.
   */
  async function flush(): Promise<void> {
    commitGroup();
    if (writing !== undefined) await writing.catch(() => undefined);
    await drain();
    if (buffer.length > 0 || spilled) await drain();
  }

  function kick(): void {
    if (writing !== undefined || (buffer.length === 0 && !spilled)) return;
    drain().catch((error) => options.onError?.(error));
  }

  function scheduleKick(): void {
    if (kickScheduled) return;
    kickScheduled = true;
    setImmediate(() => {
      kickScheduled = false;
      kick();
    });
  }

  function enqueue(seq: number, usage: UsageRecord): void {
    if (!spilled && buffer.length < maxBuffered) {
      buffer.push({ seq, record: usage });
      lastTakenSeq = seq;
    } else {
      spilled = true;
    }
  }

  let group:
    | { records: UsageRecord[]; settle: { resolve: () => void; reject: (error: unknown) => void }[] }
    | undefined;

  function commitGroup(): void {
    const current = group;
    group = undefined;
    if (current === undefined) return;
    try {
      if (closed) throw new ModelportError("MP_SHUTTING_DOWN", "the usage ledger is closed");
      const seqs = journal.appendMany(current.records);
      for (let index = 0; index < seqs.length; index += 1) {
        enqueue(seqs[index] as number, current.records[index] as UsageRecord);
      }
    } catch (error) {
      for (const { reject } of current.settle) reject(error);
      return;
    }
    for (const { resolve } of current.settle) resolve();
    if (buffer.length >= batchSize) scheduleKick();
  }

  return {
    record(usage) {
      if (closed) throw new ModelportError("MP_SHUTTING_DOWN", "the usage ledger is closed");
      validateUsageRecord(usage);
      // A pending group holds earlier records; commit it first so sequence order = call order.
      if (group !== undefined) commitGroup();
      enqueue(journal.append(usage), usage);
      if (buffer.length >= batchSize) scheduleKick();
    },

    recordGrouped(usage) {
      try {
        if (closed) throw new ModelportError("MP_SHUTTING_DOWN", "the usage ledger is closed");
        validateUsageRecord(usage);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<void>((resolve, reject) => {
        if (group === undefined) {
          group = { records: [], settle: [] };
          setImmediate(commitGroup);
        }
        group.records.push(usage);
        group.settle.push({ resolve, reject });
      });
    },

    async recover() {
      await flush();
      const replayed = recovered ? 0 : pendingAtStart;
      recovered = true;
      return replayed;
    },

    flush,

    async close() {
      if (closed) return;
      commitGroup(); // records awaiting their group commit are journaled before the ledger closes
      closed = true;
      clearInterval(timer);
      try {
        await flush();
      } finally {
        pendingAtClose = journal.count();
        journal.close();
      }
    },

    stats() {
      return { buffered: buffer.length, journalPending: pendingAtClose ?? journal.count(), ...stats };
    },
  };
}
