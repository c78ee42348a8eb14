import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { TenantRecord, TenantRepository } from "../../core/storage.js";
import { attempt } from "../errors.js";
import { byteOrder, type StorageDialect } from "../ordering.js";
import type { Database, TenantsTable } from "../schema.js";
import { limitsFromRow, limitsToRow } from "./limits.js";

function toRecord(row: Selectable<TenantsTable>): TenantRecord {
  return { id: row.id, name: row.name, createdAt: row.created_at, limits: limitsFromRow(row) };
}

export function createTenantRepository(db: Kysely<Database>, dialect: StorageDialect): TenantRepository {
  return {
    async create(tenant) {
      await attempt(
        "creating a tenant",
        () =>
          db
            .insertInto("tenants")
            .values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt, ...limitsToRow(tenant.limits) })
            .execute(),
        (violation) => {
          if (violation.kind !== "unique") return undefined;
          if (violation.columns.includes("name")) {
            return new ModelportError("MP_CONFLICT", `tenant name '${tenant.name}' is taken`, { param: "name" });
          }
          return new ModelportError("MP_CONFLICT", `tenant id '${tenant.id}' already exists`, { param: "id" });
        },
      );
      return { id: tenant.id, name: tenant.name, createdAt: tenant.createdAt, limits: { ...tenant.limits } };
    },

    async getById(id) {
      const row = await attempt("reading a tenant", () =>
        db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    async getByName(name) {
      const row = await attempt("reading a tenant", () =>
        db.selectFrom("tenants").selectAll().where("name", "=", name).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    async list() {
      const rows = await attempt("listing tenants", () =>
        db
          .selectFrom("tenants")
          .selectAll()
          .orderBy(byteOrder(dialect, "created_at"))
          .orderBy(byteOrder(dialect, "id"))
          .execute(),
      );
      return rows.map(toRecord);
    },
    async updateLimits(id, limits) {
      await attempt("updating tenant limits", () =>
        db.updateTable("tenants").set(limitsToRow(limits)).where("id", "=", id).execute(),
      );
      const row = await attempt("reading a tenant", () =>
        db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },
  };
}
