import type { Kysely, Migration } from "kysely";

/**
 * Monitoring beyond the request log: the predicted label of each classify/predict request, the
 * (possibly delayed, possibly corrected) feedback on it, and the canary rollbacks the guard made.
 * Predictions and feedback are keyed by request id, so a label arriving days later joins its
 * prediction exactly and a second label for the same request replaces the first.
 */
export const monitoringMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("predictions")
      .addColumn("request_id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("target", "text")
      .addColumn("model_version", "text")
      .addColumn("predicted_label", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("predictions_tenant_endpoint_time")
      .on("predictions")
      .columns(["tenant_id", "endpoint", "created_at"])
      .execute();
    await db.schema
      .createTable("feedback")
      .addColumn("request_id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("endpoint", "text")
      .addColumn("target", "text")
      .addColumn("model_version", "text")
      .addColumn("label", "text")
      .addColumn("score", "double precision")
      .addColumn("thumbs", "integer")
      // When the request was served: live quality windows are over request time, not label time.
      .addColumn("request_at", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("updated_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("feedback_tenant_endpoint_time")
      .on("feedback")
      .columns(["tenant_id", "endpoint", "request_at"])
      .execute();
    await db.schema
      .createTable("rollback_events")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text")
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("target", "text", (column) => column.notNull())
      .addColumn("stable_target", "text", (column) => column.notNull())
      .addColumn("reasons", "text", (column) => column.notNull())
      .addColumn("metrics", "text", (column) => column.notNull())
      .addColumn("at", "text", (column) => column.notNull())
      .addColumn("reset_at", "text")
      .addColumn("reset_by", "text")
      .execute();
    await db.schema
      .createIndex("rollback_events_endpoint_target")
      .on("rollback_events")
      .columns(["endpoint", "target", "at"])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("rollback_events").execute();
    await db.schema.dropTable("feedback").execute();
    await db.schema.dropTable("predictions").execute();
  },
};
