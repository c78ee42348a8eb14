import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { DatabaseHandle } from "../../../storage/database-handle.js";
import { migrateToLatest } from "../../../storage/migrate.js";
import type { Database } from "../../../storage/schema.js";

/**
 * A migrated SQLite handle that also hands out its better-sqlite3 connection, for the ledger's
 * prepared-statement fast path. Same file name and pragmas as storage's connectSqlite; until the
 * DatabaseHandle exposes its connection, tests and benchmarks open SQLite through this.
 */
export async function openSqliteWithConnection(
  dataDir: string,
): Promise<{ handle: DatabaseHandle; connection: BetterSqlite3.Database }> {
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = join(resolve(dataDir), "modelport.db");
  const connection = new BetterSqlite3(file);
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = NORMAL");
  connection.pragma("foreign_keys = ON");
  connection.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  let closing: Promise<void> | undefined;
  const handle: DatabaseHandle = {
    db,
    dialect: "sqlite",
    location: file,
    close: () => {
      closing ??= db.destroy();
      return closing;
    },
  };
  await migrateToLatest(handle);
  return { handle, connection };
}
