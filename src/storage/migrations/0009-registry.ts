import type { Kysely, Migration } from "kysely";

/**
 * The model registry: immutable versions (artifact files live under `<data-dir>/models/...`,
 * the row holds their sha256, signature, lineage, metrics and model card), aliases pointing at
 * versions, and the history of every alias move. `namespace` is a tenant id, or `_global` for
 * operator-owned models (what config endpoints and `modelport quickstart` serve), so there is no
 * foreign key to `tenants`.
 */
export const registryMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("model_versions")
      .addColumn("namespace", "text", (column) => column.notNull())
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("version", "integer", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("created_by", "text", (column) => column.notNull())
      .addColumn("sha256", "text", (column) => column.notNull())
      .addColumn("format", "text", (column) => column.notNull())
      .addColumn("task", "text")
      .addColumn("signature", "text")
      .addColumn("metrics", "text", (column) => column.notNull())
      .addColumn("lineage", "text", (column) => column.notNull())
      .addColumn("card", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("model_versions_primary_key", ["namespace", "name", "version"])
      .execute();
    await db.schema
      .createTable("model_aliases")
      .addColumn("namespace", "text", (column) => column.notNull())
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("alias", "text", (column) => column.notNull())
      .addColumn("version", "integer", (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("model_aliases_primary_key", ["namespace", "name", "alias"])
      .execute();
    await db.schema
      .createTable("model_alias_history")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("namespace", "text", (column) => column.notNull())
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("alias", "text", (column) => column.notNull())
      .addColumn("from_version", "integer")
      .addColumn("to_version", "integer", (column) => column.notNull())
      .addColumn("actor", "text", (column) => column.notNull())
      .addColumn("reason", "text")
      .addColumn("overridden", "integer", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("model_alias_history_model_index")
      .on("model_alias_history")
      .columns(["namespace", "name", "alias", "created_at"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("model_alias_history").execute();
    await db.schema.dropTable("model_aliases").execute();
    await db.schema.dropTable("model_versions").execute();
  },
};
