import { ModelportError } from "../core/errors.js";
import type { Storage } from "../core/storage.js";
import { createStorage } from "./create-storage.js";
import type { DatabaseHandle, StorageLogger } from "./database-handle.js";
import { connectPostgres, isPostgresUrl } from "./dialects/postgres.js";
import { connectSqlite } from "./dialects/sqlite.js";
import { migrateToLatest } from "./migrate.js";

export type { DatabaseHandle, StorageLogger } from "./database-handle.js";

export interface OpenStorageOptions {
  /** `postgres://` or `postgresql://` URL; when absent (or empty), SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Directory for `modelport.db` (created when missing). */
  dataDir: string;
  logger?: StorageLogger | undefined;
}

/**
 * Connects (PostgreSQL pool or embedded SQLite) and runs pending migrations. Every failure is a
 * MP_STORAGE_ERROR whose message names the file or host, never a password.
 */
export async function openDatabase(options: OpenStorageOptions): Promise<DatabaseHandle> {
  const url = options.databaseUrl?.trim();
  let handle: DatabaseHandle;
  if (url === undefined || url === "") {
    handle = connectSqlite(options.dataDir, options.logger);
  } else if (isPostgresUrl(url)) {
    handle = await connectPostgres(url, options.logger);
  } else {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw new ModelportError(
      "MP_STORAGE_ERROR",
      `unsupported database URL${scheme === undefined ? "" : ` scheme '${scheme}:'`}: use postgres://user:password@host:port/database, or leave it unset for SQLite in the data directory`,
    );
  }
  try {
    await migrateToLatest(handle);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

/** Opens and migrates the database and returns the Storage port over it. */
export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  return createStorage(await openDatabase(options));
}
