import { sql } from "kysely";
import type { Storage } from "../core/storage.js";
import type { DatabaseHandle } from "./database-handle.js";
import { createApiKeyRepository } from "./repositories/api-keys.js";
import { createSettingsRepository } from "./repositories/settings.js";
import { createTenantRepository } from "./repositories/tenants.js";
import { createUserRepository } from "./repositories/users.js";

/** The Storage port over an open, migrated database. `close()` closes the handle. */
export function createStorage(handle: DatabaseHandle): Storage {
  const { db, dialect } = handle;
  let closed = false;
  return {
    dialect,
    tenants: createTenantRepository(db, dialect),
    apiKeys: createApiKeyRepository(db, dialect),
    users: createUserRepository(db, dialect),
    settings: createSettingsRepository(db),
    async ping() {
      if (closed) return false;
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        // ping reports health; it does not throw (readiness probes call it).
        return false;
      }
    },
    async close() {
      closed = true;
      await handle.close();
    },
  };
}
