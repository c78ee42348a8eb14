import type { Kysely, Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import { attempt } from "../../storage/errors.js";
import { byteOrder, type StorageDialect } from "../../storage/ordering.js";
import type { Database, DatasetVersionsTable } from "../../storage/schema.js";
import type { DatasetVersion } from "./types.js";

/**
 * The `dataset_versions` table. Every method takes the tenant and filters on it: there is no
 * cross-tenant read. The directory is not stored (it follows from the data dir), so moving a
 * data dir keeps working.
 */
export type DatasetVersionRecord = Omit<DatasetVersion, "directory">;

export interface DatasetVersionRepository {
  /** Inserts; false when (tenant, name, version) already exists (a concurrent or repeated import). */
  insert(record: DatasetVersionRecord): Promise<boolean>;
  get(tenantId: string, name: string, version: string): Promise<DatasetVersionRecord | undefined>;
  /** Versions whose sha starts with `prefix`, newest first (at most `limit`). */
  findByPrefix(tenantId: string, name: string, prefix: string, limit: number): Promise<DatasetVersionRecord[]>;
  latest(tenantId: string, name: string): Promise<DatasetVersionRecord | undefined>;
  /** By name, then newest first; every dataset of the tenant when `name` is absent. */
  list(tenantId: string, name?: string): Promise<DatasetVersionRecord[]>;
}

function toRecord(row: Selectable<DatasetVersionsTable>): DatasetVersionRecord {
  return {
    tenantId: row.tenant_id,
    name: row.name,
    version: row.version,
    createdAt: row.created_at,
    rowCount: Number(row.row_count),
    byteSize: Number(row.byte_size),
    schema: JSON.parse(row.schema) as DatasetVersionRecord["schema"],
    quality: JSON.parse(row.quality) as DatasetVersionRecord["quality"],
    declared: JSON.parse(row.declared) as DatasetVersionRecord["declared"],
    source: JSON.parse(row.source) as DatasetVersionRecord["source"],
  };
}

export function createDatasetVersionRepository(
  db: Kysely<Database>,
  dialect: StorageDialect,
): DatasetVersionRepository {
  return {
    async insert(record) {
      try {
        await attempt(
          "recording a dataset version",
          () =>
            db
              .insertInto("dataset_versions")
              .values({
                tenant_id: record.tenantId,
                name: record.name,
                version: record.version,
                created_at: record.createdAt,
                row_count: record.rowCount,
                byte_size: record.byteSize,
                schema: JSON.stringify(record.schema),
                quality: JSON.stringify(record.quality),
                declared: JSON.stringify(record.declared),
                source: JSON.stringify(record.source),
              })
              .execute(),
          (violation) =>
            violation.kind === "unique"
              ? new ModelportError("MP_CONFLICT", "dataset version exists")
              : violation.kind === "foreign-key"
                ? new ModelportError("MP_NOT_FOUND", `tenant '${record.tenantId}' does not exist`, { param: "tenant" })
                : undefined,
        );
        return true;
      } catch (error) {
        if (error instanceof ModelportError && error.code === "MP_CONFLICT") return false;
        throw error;
      }
    },

    async get(tenantId, name, version) {
      const row = await attempt("reading a dataset version", () =>
        db
          .selectFrom("dataset_versions")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .where("name", "=", name)
          .where("version", "=", version)
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    async findByPrefix(tenantId, name, prefix, limit) {
      // A sha prefix is [0-9a-f]*, so `like` needs no escaping (the caller validates it).
      const rows = await attempt("finding a dataset version", () =>
        db
          .selectFrom("dataset_versions")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .where("name", "=", name)
          .where("version", "like", `${prefix}%`)
          .orderBy(byteOrder(dialect, "created_at"), "desc")
          .limit(limit)
          .execute(),
      );
      return rows.map(toRecord);
    },

    async latest(tenantId, name) {
      const row = await attempt("reading the latest dataset version", () =>
        db
          .selectFrom("dataset_versions")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .where("name", "=", name)
          .orderBy(byteOrder(dialect, "created_at"), "desc")
          .orderBy(byteOrder(dialect, "version"), "desc")
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : toRecord(row);
    },

    async list(tenantId, name) {
      const rows = await attempt("listing dataset versions", () => {
        let query = db.selectFrom("dataset_versions").selectAll().where("tenant_id", "=", tenantId);
        if (name !== undefined) query = query.where("name", "=", name);
        return query
          .orderBy(byteOrder(dialect, "name"))
          .orderBy(byteOrder(dialect, "created_at"), "desc")
          .orderBy(byteOrder(dialect, "version"), "desc")
          .execute();
      });
      return rows.map(toRecord);
    },
  };
}
