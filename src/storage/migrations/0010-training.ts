import type { Kysely, Migration } from "kysely";

/**
 * Training runs (trainer jobs and external `modelport run` programs): one row per run, its
 * per-step metrics and its artifacts. Params are JSON text. Every read is tenant-scoped, so the
 * tenant leads each key and index.
 */
export const trainingMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("training_runs")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("kind", "text", (column) => column.notNull())
      .addColumn("status", "text", (column) => column.notNull())
      .addColumn("params", "text", (column) => column.notNull())
      .addColumn("dataset", "text")
      .addColumn("git_commit", "text")
      .addColumn("command", "text")
      .addColumn("exit_code", "integer")
      .addColumn("error", "text")
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("started_at", "text")
      .addColumn("ended_at", "text")
      .addColumn("duration_ms", "integer")
      .execute();
    await db.schema
      .createIndex("training_runs_tenant_created_index")
      .on("training_runs")
      .columns(["tenant_id", "created_at"])
      .execute();
    await db.schema
      .createTable("training_run_metrics")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("run_id", "text", (column) => column.notNull().references("training_runs.id").onDelete("cascade"))
      .addColumn("step", "integer", (column) => column.notNull())
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("value", "double precision", (column) => column.notNull())
      .addColumn("recorded_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("training_run_metrics_run_index")
      .on("training_run_metrics")
      .columns(["tenant_id", "run_id", "name", "step"])
      .execute();
    await db.schema
      .createTable("training_run_artifacts")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("run_id", "text", (column) => column.notNull().references("training_runs.id").onDelete("cascade"))
      .addColumn("path", "text", (column) => column.notNull())
      .addColumn("sha256", "text", (column) => column.notNull())
      .addColumn("size", "bigint", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addPrimaryKeyConstraint("training_run_artifacts_primary_key", ["tenant_id", "run_id", "path"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("training_run_artifacts").execute();
    await db.schema.dropTable("training_run_metrics").execute();
    await db.schema.dropTable("training_runs").execute();
  },
};
