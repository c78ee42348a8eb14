import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { ledgerSuite } from "../src/commerce/ledger/testing/ledger-suite.js";
import { openSqliteWithConnection } from "../src/commerce/ledger/testing/sqlite-with-connection.js";
import { openDatabase } from "../src/storage/database.js";
import type { DatabaseHandle } from "../src/storage/database-handle.js";

// The portable path: multi-row INSERT through kysely, as on PostgreSQL.
ledgerSuite("SQLite (multi-row INSERT through kysely)", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-ledger-"));
  return {
    open: () => openDatabase({ dataDir }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

// The fast path: cached better-sqlite3 prepared statements on kysely's own connection.
const connections = new WeakMap<DatabaseHandle, BetterSqlite3.Database>();
ledgerSuite(
  "SQLite (prepared statements)",
  async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "modelport-ledger-fast-"));
    return {
      open: async () => {
        const { handle, connection } = await openSqliteWithConnection(dataDir);
        connections.set(handle, connection);
        return handle;
      },
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
  (handle) => ({ sqliteConnection: connections.get(handle) }),
);
