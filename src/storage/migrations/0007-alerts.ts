import type { Kysely, Migration } from "kysely";

/**
 * Alert delivery: tenants' webhook endpoints (their signing secrets are derived from the master
 * key, never stored) and fired alerts, de-duplicated by key, with their delivery state.
 */
export const alertsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("webhooks")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("url", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("disabled_at", "text")
      .execute();
    await db.schema.createIndex("webhooks_tenant").on("webhooks").column("tenant_id").execute();
    await db.schema
      .createTable("alerts")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text")
      .addColumn("kind", "text", (column) => column.notNull())
      .addColumn("dedup_key", "text", (column) => column.notNull())
      .addColumn("severity", "text", (column) => column.notNull())
      .addColumn("summary", "text", (column) => column.notNull())
      .addColumn("details", "text", (column) => column.notNull())
      .addColumn("first_fired_at", "text", (column) => column.notNull())
      .addColumn("last_fired_at", "text", (column) => column.notNull())
      .addColumn("occurrences", "integer", (column) => column.notNull())
      .addColumn("delivered_at", "text")
      .addColumn("delivery_attempts", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("last_error", "text")
      .execute();
    await db.schema.createIndex("alerts_dedup").on("alerts").columns(["dedup_key", "last_fired_at"]).execute();
    await db.schema.createIndex("alerts_tenant_time").on("alerts").columns(["tenant_id", "first_fired_at"]).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("alerts").execute();
    await db.schema.dropTable("webhooks").execute();
  },
};
