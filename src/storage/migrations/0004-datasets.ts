import type { Kysely, Migration } from "kysely";

/**
 * Dataset versions: one row per immutable, content-addressed version (the files live under
 * `<data-dir>/datasets/<tenant>/<name>/<sha256>/`). Schema, quality report, declarations and
 * source are JSON text. Every read is tenant-scoped, so the tenant leads the key and the index.
 */
export const datasetsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("dataset_versions")
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("version", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("row_count", "integer", (column) => column.notNull())
      .addColumn("byte_size", "bigint", (column) => column.notNull())
      .addColumn("schema", "text", (column) => column.notNull())
      .addColumn("quality", "text", (column) => column.notNull())
      .addColumn("declared", "text", (column) => column.notNull())
      .addColumn("source", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("dataset_versions_primary_key", ["tenant_id", "name", "version"])
      .execute();
    await db.schema
      .createIndex("dataset_versions_tenant_name_created_index")
      .on("dataset_versions")
      .columns(["tenant_id", "name", "created_at"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("dataset_versions").execute();
  },
};
