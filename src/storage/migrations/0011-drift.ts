import type { Kysely, Migration } from "kysely";

/**
 * Drift: the reference profile recorded with a registry version (what the training split looked
 * like, as compact summaries; see monitoring/drift), the live windows of traffic per endpoint and
 * version (snapshots, so a restart loses at most one snapshot interval) and the reports of every
 * check. Endpoints and registry targets are the operator's, shared by every tenant, so windows and
 * reports carry no tenant (drift:read and drift:check are operator-only permissions).
 */
export const driftMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("model_reference_profiles")
      .addColumn("namespace", "text", (column) => column.notNull())
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("version", "integer", (column) => column.notNull())
      .addColumn("source", "text", (column) => column.notNull())
      .addColumn("rows", "integer", (column) => column.notNull())
      .addColumn("columns", "text", (column) => column.notNull())
      .addColumn("profile", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("model_reference_profiles_primary_key", ["namespace", "name", "version"])
      .execute();
    await db.schema
      .createTable("drift_windows")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("model", "text", (column) => column.notNull())
      .addColumn("model_version", "integer", (column) => column.notNull())
      .addColumn("started_at", "text", (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .addColumn("closed_at", "text")
      .addColumn("rows", "integer", (column) => column.notNull())
      .addColumn("snapshot", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("drift_windows_endpoint_index")
      .on("drift_windows")
      .columns(["endpoint", "closed_at", "started_at"])
      .execute();
    await db.schema
      .createTable("drift_reports")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("model", "text", (column) => column.notNull())
      .addColumn("model_version", "integer", (column) => column.notNull())
      .addColumn("window_id", "text", (column) => column.notNull())
      .addColumn("window_started_at", "text", (column) => column.notNull())
      .addColumn("checked_at", "text", (column) => column.notNull())
      .addColumn("rows", "integer", (column) => column.notNull())
      .addColumn("drift_share", "double precision", (column) => column.notNull())
      .addColumn("dataset_drift", "integer", (column) => column.notNull())
      .addColumn("report", "text", (column) => column.notNull())
      .addColumn("alert_id", "text")
      .execute();
    await db.schema
      .createIndex("drift_reports_endpoint_index")
      .on("drift_reports")
      .columns(["endpoint", "checked_at"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("drift_reports").execute();
    await db.schema.dropTable("drift_windows").execute();
    await db.schema.dropTable("model_reference_profiles").execute();
  },
};
