import type BetterSqlite3 from "better-sqlite3";
import type { Kysely } from "kysely";
import type { StorageDialect } from "./ordering.js";
import type { Database } from "./schema.js";

/** What storage may tell an operator (pino's logger fits). */
export interface StorageLogger {
  warn(message: string): void;
}

/**
 * An open, migrated database. Modules that need SQL beyond the repository port (the usage
 * ledger) share this one handle with the Storage built on it, so a process holds one pool (one
 * connection for SQLite) and closes it once.
 */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: StorageDialect;
  /** Where the data lives, safe to log: a file path, or `postgres://user@host:port/db` (no password). */
  readonly location: string;
  /**
   * SQLite only: the better-sqlite3 connection kysely runs on (the same single connection), for
   * the usage ledger's cached prepared statements. Undefined on PostgreSQL.
   */
  readonly sqliteConnection?: BetterSqlite3.Database | undefined;
  /** Releases the connection(s). Safe to call more than once. */
  close(): Promise<void>;
}
