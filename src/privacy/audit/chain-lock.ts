import { type Kysely, sql } from "kysely";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import type { Database } from "../../storage/schema.js";

/**
 * Runs `work` as the only writer of the audit chain, across processes and nodes, in one
 * transaction (so an entry and its checkpoint commit together or not at all).
 *
 * - PostgreSQL: `pg_advisory_xact_lock`. Not `SELECT … FOR UPDATE` on the last row: that locks
 *   nothing while the table is empty, and a waiter that wakes after the holder commits re-reads
 *   the same (old) last row under READ COMMITTED, so both would write the same seq.
 * - SQLite: `BEGIN IMMEDIATE` takes the database write lock up front (other processes wait on
 *   busy_timeout). Within one process, runs on the same file queue behind each other first:
 *   better-sqlite3 waits for a lock synchronously, so a second handle blocking there would freeze
 *   the event loop the first one needs to commit (the same reason as in storage/migrate.ts).
 */
const advisoryLockId = 7_302_615_000_001; // arbitrary, fixed: "the Modelport audit chain"

const sqliteQueues = new Map<string, Promise<unknown>>();

function queuePerFile<T>(file: string, run: () => Promise<T>): Promise<T> {
  const previous = sqliteQueues.get(file) ?? Promise.resolve();
  const next = previous.then(run, run);
  const settled = next.catch(() => undefined);
  sqliteQueues.set(file, settled);
  void settled.then(() => {
    if (sqliteQueues.get(file) === settled) sqliteQueues.delete(file);
  });
  return next;
}

export function withChainLock<T>(
  database: Pick<DatabaseHandle, "db" | "dialect" | "location">,
  work: (db: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const { db } = database;
  if (database.dialect === "postgres")
    return db.transaction().execute(async (transaction) => {
      await sql`select pg_advisory_xact_lock(${String(advisoryLockId)}::bigint)`.execute(transaction);
      return work(transaction);
    });
  return queuePerFile(database.location, () =>
    db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    }),
  );
}
