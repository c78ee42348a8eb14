import type BetterSqlite3 from "better-sqlite3";
import { openDatabase } from "../../../storage/database.js";
import type { DatabaseHandle } from "../../../storage/database-handle.js";

/**
 * A migrated SQLite handle (storage's own connectSqlite: same file, pragmas and migrations) with
 * its better-sqlite3 connection, for the ledger's prepared-statement fast path in tests and
 * benchmarks.
 */
export async function openSqliteWithConnection(
  dataDir: string,
): Promise<{ handle: DatabaseHandle; connection: BetterSqlite3.Database }> {
  const handle = await openDatabase({ dataDir });
  if (handle.sqliteConnection === undefined) throw new Error("SQLite handle without its connection");
  return { handle, connection: handle.sqliteConnection };
}
