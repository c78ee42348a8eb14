import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { Role, UserRecord, UserRepository } from "../../core/storage.js";
import { attempt } from "../errors.js";
import { byteOrder, type StorageDialect } from "../ordering.js";
import type { Database, UsersTable } from "../schema.js";

function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    role: row.role as Role,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

/** Tenant users; every read and write is scoped by tenant in SQL. */
export function createUserRepository(db: Kysely<Database>, dialect: StorageDialect): UserRepository {
  const getForTenant = async (tenantId: string, id: string) => {
    const row = await attempt("reading a user", () =>
      db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst(),
    );
    return row === undefined ? undefined : toRecord(row);
  };
  return {
    async create(user) {
      await attempt(
        "creating a user",
        () =>
          db
            .insertInto("users")
            .values({
              id: user.id,
              tenant_id: user.tenantId,
              email: user.email,
              role: user.role,
              created_at: user.createdAt,
              disabled_at: user.disabledAt,
            })
            .execute(),
        (violation) =>
          violation.kind === "foreign-key"
            ? new ModelportError("MP_NOT_FOUND", `tenant '${user.tenantId}' does not exist`, { param: "tenantId" })
            : new ModelportError("MP_CONFLICT", `a user with email '${user.email}' already exists in this tenant`, {
                param: "email",
              }),
      );
      return { ...user };
    },
    getForTenant,
    async listForTenant(tenantId) {
      const rows = await attempt("listing users", () =>
        db
          .selectFrom("users")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .orderBy(byteOrder(dialect, "created_at"))
          .orderBy(byteOrder(dialect, "id"))
          .execute(),
      );
      return rows.map(toRecord);
    },
    async update(tenantId, id, changes) {
      const set: { role?: string; disabled_at?: string | null } = {};
      if (changes.role !== undefined) set.role = changes.role;
      if (changes.disabledAt !== undefined) set.disabled_at = changes.disabledAt;
      if (Object.keys(set).length > 0)
        await attempt("updating a user", () =>
          db.updateTable("users").set(set).where("tenant_id", "=", tenantId).where("id", "=", id).execute(),
        );
      return getForTenant(tenantId, id);
    },
  };
}
