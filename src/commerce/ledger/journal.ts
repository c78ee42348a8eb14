import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { ModelportError } from "../../core/errors.js";
import { recordFromTuple, recordToTuple, type UsageRecord } from "./usage-record.js";

export const defaultJournalFileName = "usage-journal.db";

/**
 * `normal`: a record whose append returned survives `kill -9` of the process (it is in the WAL
 * file, i.e. in the OS page cache), but a power loss or kernel crash may lose the records since
 * the last checkpoint. `full`: the WAL is fsynced on every append, so an acknowledged record
 * survives power loss too, at the cost of one fsync per request (see BENCHMARKS.md).
 */
export type JournalSynchronous = "normal" | "full";

export interface JournalEntry {
  seq: number;
  record: UsageRecord;
}

/** A local, crash-safe queue of usage records not yet in the main database. */
export interface UsageJournal {
  readonly path: string;
  /** Durably appends one record (one autocommit transaction); returns its sequence number. */
  append(record: UsageRecord): number;
  /** Durably appends many records in ONE transaction (group commit); returns their sequence numbers. */
  appendMany(records: readonly UsageRecord[]): number[];
  /** Entries with seq > `afterSeq`, oldest first. */
  readAfter(afterSeq: number, limit: number): JournalEntry[];
  /** Removes every entry with seq ≤ `seq` (they are in the main database). */
  deleteThrough(seq: number): void;
  count(): number;
  close(): void;
}

/**
 * Opens (creating) the journal: a SQLite file of its own, so appends never wait on the main
 * database's lock or network. WAL, and `locking_mode = EXCLUSIVE`: one process owns a journal;
 * a second process pointed at the same file fails at start-up instead of deleting entries the
 * first has not moved yet. `AUTOINCREMENT` keeps sequence numbers increasing even after the
 * table empties, which the ledger's cursor relies on.
 */
export function openJournal(path: string, options: { synchronous?: JournalSynchronous } = {}): UsageJournal {
  const file = resolve(path);
  let connection: BetterSqlite3.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    connection = new BetterSqlite3(file);
    connection.pragma("locking_mode = EXCLUSIVE");
    connection.pragma("journal_mode = WAL");
    connection.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    connection.exec(
      "create table if not exists usage_journal (seq integer primary key autoincrement, payload text not null)",
    );
    // Takes the exclusive lock now (the first write in EXCLUSIVE mode keeps it until close).
    connection.exec("begin immediate; commit;");
  } catch (error) {
    throw new ModelportError(
      "MP_STORAGE_ERROR",
      `cannot open the usage journal at ${file}: ${error instanceof Error ? error.message : String(error)}` +
        " (is another modelport process using this data directory?)",
      { cause: error },
    );
  }
  const insert = connection.prepare("insert into usage_journal (payload) values (?)");
  const selectAfter = connection.prepare("select seq, payload from usage_journal where seq > ? order by seq limit ?");
  const deleteUpTo = connection.prepare("delete from usage_journal where seq <= ?");
  const countAll = connection.prepare("select count(*) as n from usage_journal");
  let open = true;
  const appendAll = connection.transaction((records: readonly UsageRecord[]) =>
    records.map((record) => Number(insert.run(JSON.stringify(recordToTuple(record))).lastInsertRowid)),
  );

  return {
    path: file,
    append(record) {
      return Number(insert.run(JSON.stringify(recordToTuple(record))).lastInsertRowid);
    },
    appendMany(records) {
      return appendAll(records);
    },
    readAfter(afterSeq, limit) {
      const rows = selectAfter.all(afterSeq, limit) as { seq: number; payload: string }[];
      return rows.map((row) => ({ seq: row.seq, record: recordFromTuple(JSON.parse(row.payload) as unknown[]) }));
    },
    deleteThrough(seq) {
      deleteUpTo.run(seq);
    },
    count() {
      return (countAll.get() as { n: number }).n;
    },
    close() {
      if (!open) return;
      open = false;
      connection.close();
    },
  };
}
