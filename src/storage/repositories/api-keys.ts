import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { ApiKeyRecord, ApiKeyRepository, KeyScope, Role } from "../../core/storage.js";
import { attempt } from "../errors.js";
import { byteOrder, type StorageDialect } from "../ordering.js";
import type { ApiKeysTable, Database } from "../schema.js";
import { limitsFromRow, limitsToRow } from "./limits.js";

function toRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    hash: row.hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    scopes: JSON.parse(row.scopes) as KeyScope[],
    role: row.role as Role | null,
    userId: row.user_id,
    limits: limitsFromRow(row),
    rotatedFromId: row.rotated_from_id,
  };
}

export function createApiKeyRepository(db: Kysely<Database>, dialect: StorageDialect): ApiKeyRepository {
  const getById = async (id: string): Promise<ApiKeyRecord | undefined> => {
    const row = await attempt("reading an API key", () =>
      db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst(),
    );
    return row === undefined ? undefined : toRecord(row);
  };

  return {
    async create(key) {
      await attempt(
        "creating an API key",
        () =>
          db
            .insertInto("api_keys")
            .values({
              id: key.id,
              tenant_id: key.tenantId,
              name: key.name,
              prefix: key.prefix,
              hash: key.hash,
              created_at: key.createdAt,
              revoked_at: key.revokedAt,
              last_used_at: key.lastUsedAt,
              expires_at: key.expiresAt,
              scopes: JSON.stringify(key.scopes),
              role: key.role,
              user_id: key.userId,
              rotated_from_id: key.rotatedFromId,
              ...limitsToRow(key.limits),
            })
            .execute(),
        (violation) => {
          if (violation.kind === "foreign-key") {
            return new ModelportError("MP_NOT_FOUND", `tenant '${key.tenantId}' does not exist`, {
              param: "tenantId",
            });
          }
          // The hash is a secret-derived value: say what collided, never print it.
          if (violation.columns.includes("hash")) {
            return new ModelportError("MP_CONFLICT", "an API key with the same hash already exists", { param: "hash" });
          }
          return new ModelportError("MP_CONFLICT", `API key id '${key.id}' already exists`, { param: "id" });
        },
      );
      return { ...key, scopes: [...key.scopes], limits: { ...key.limits } };
    },

    async findByHash(hash) {
      const row = await attempt("looking up an API key", () =>
        db.selectFrom("api_keys").selectAll().where("hash", "=", hash).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    async getForTenant(tenantId, id) {
      // Scoped in SQL, not filtered afterwards, so another tenant's key never leaves the database.
      const row = await attempt("reading an API key", () =>
        db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    getById,

    async listForTenant(tenantId) {
      const rows = await attempt("listing API keys", () =>
        db
          .selectFrom("api_keys")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .orderBy(byteOrder(dialect, "created_at"))
          .orderBy(byteOrder(dialect, "id"))
          .execute(),
      );
      return rows.map(toRecord);
    },

    async revoke(id, at) {
      // `revoked_at is null` keeps the first revocation time: revoking twice changes nothing.
      await attempt("revoking an API key", () =>
        db
          .updateTable("api_keys")
          .set({ revoked_at: at })
          .where("id", "=", id)
          .where("revoked_at", "is", null)
          .execute(),
      );
      return getById(id);
    },

    async touchLastUsed(id, at) {
      // Never moves backwards, so batched or out-of-order writes from several processes are harmless.
      // Compared as bytes (like list order), whatever the PostgreSQL locale.
      await attempt("recording API key use", () =>
        db
          .updateTable("api_keys")
          .set({ last_used_at: at })
          .where("id", "=", id)
          .where((eb) => eb.or([eb("last_used_at", "is", null), eb(byteOrder(dialect, "last_used_at"), "<", at)]))
          .execute(),
      );
    },

    async update(tenantId, id, changes) {
      const set: Record<string, unknown> = {};
      if (changes.limits !== undefined) Object.assign(set, limitsToRow(changes.limits));
      if (changes.name !== undefined) set.name = changes.name;
      if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
      if (Object.keys(set).length > 0)
        await attempt("updating an API key", () =>
          db.updateTable("api_keys").set(set).where("tenant_id", "=", tenantId).where("id", "=", id).execute(),
        );
      const row = await attempt("reading an API key", () =>
        db.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },
  };
}
