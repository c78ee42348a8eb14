import { type Kysely, type MigrationResultSet, Migrator, sql } from "kysely";
import { ModelportError } from "../core/errors.js";
import type { DatabaseHandle } from "./database-handle.js";
import { describeError } from "./dialects/describe-error.js";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

/**
 * Brings the schema to the latest migration; a no-op when it is already there.
 *
 * Concurrency (two processes starting at once on one database):
 * - PostgreSQL: kysely's Migrator already holds a session `pg_advisory_lock` around the whole run
 *   and runs the pending migrations in one transaction; its bookkeeping tables are created before
 *   the lock with create-if-not-exists plus a re-check, which tolerates a concurrent creator. So
 *   the second process waits, then finds nothing pending.
 * - SQLite: kysely takes no lock (it assumes one connection), so we wrap the run in
 *   `BEGIN IMMEDIATE`: the second process waits on the write lock (busy_timeout), then finds
 *   nothing pending. The transaction also makes a failed migration leave no half-made schema.
 *   Within one process, runs on the same file also queue behind each other: better-sqlite3 waits
 *   for a lock synchronously, so a second handle blocking on BEGIN IMMEDIATE would freeze the
 *   event loop that the first handle needs to finish and commit.
 */
export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  let result: MigrationResultSet;
  try {
    result =
      handle.dialect === "postgres"
        ? await migrateWith(handle.db)
        : await migrateSqliteExclusively(handle.db, handle.location);
  } catch (error) {
    // e.g. SQLITE_BUSY from BEGIN IMMEDIATE when another process holds the lock past busy_timeout
    result = { error };
  }
  if (result.error === undefined) return;
  const failed = result.results?.find((each) => each.status === "Error");
  const which = failed === undefined ? "" : ` (migration ${failed.migrationName})`;
  throw new ModelportError(
    "MP_STORAGE_ERROR",
    `migrating the database at ${handle.location} failed${which}: ${describeError(result.error)}`,
    { cause: result.error },
  );
}

function migrateWith(db: Kysely<Database>): Promise<MigrationResultSet> {
  return new Migrator({ db, provider: migrationProvider }).migrateToLatest();
}

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

function migrateSqliteExclusively(db: Kysely<Database>, file: string): Promise<MigrationResultSet> {
  return queuePerFile(file, () => migrateInImmediateTransaction(db));
}

function migrateInImmediateTransaction(db: Kysely<Database>): Promise<MigrationResultSet> {
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    let result: MigrationResultSet;
    try {
      result = await migrateWith(connection);
    } catch (error) {
      result = { error };
    }
    await sql.raw(result.error === undefined ? "commit" : "rollback").execute(connection);
    return result;
  });
}
