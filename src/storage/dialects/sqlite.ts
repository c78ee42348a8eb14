import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle, StorageLogger } from "../database-handle.js";
import type { Database } from "../schema.js";
import { describeError } from "./describe-error.js";

export const sqliteFileName = "modelport.db";

/**
 * Opens `<dataDir>/modelport.db` (creating the directory) with the settings an embedded server
 * wants: WAL so readers never block the writer, NORMAL sync (durable at checkpoints, safe with
 * WAL), foreign keys enforced (SQLite leaves them off by default), and a busy timeout so a second
 * process waits for a lock instead of failing at once.
 */
export function connectSqlite(dataDir: string, logger?: StorageLogger): DatabaseHandle {
  const file = join(resolve(dataDir), sqliteFileName);
  let connection: BetterSqlite3.Database;
  try {
    mkdirSync(resolve(dataDir), { recursive: true });
    connection = new BetterSqlite3(file);
  } catch (error) {
    throw new ModelportError("MP_STORAGE_ERROR", `cannot open SQLite database at ${file}: ${describeError(error)}`, {
      cause: error,
    });
  }
  try {
    const mode = connection.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") {
      logger?.warn(`SQLite at ${file} runs in journal_mode=${String(mode)}, not WAL; writers will block readers`);
    }
    connection.pragma("synchronous = NORMAL");
    connection.pragma("foreign_keys = ON");
    connection.pragma("busy_timeout = 5000");
  } catch (error) {
    connection.close();
    throw new ModelportError("MP_STORAGE_ERROR", `cannot use SQLite database at ${file}: ${describeError(error)}`, {
      cause: error,
    });
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: "sqlite",
    location: file,
    sqliteConnection: connection,
    close: () => {
      closing ??= db.destroy();
      return closing;
    },
  };
}
