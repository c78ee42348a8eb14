import type { Kysely, Migration } from "kysely";

/**
 * The money path: versioned prices, tenant plans, the usage ledger with its daily rollup, and
 * finalized invoices. Money and counts are `bigint` (64-bit in both dialects; SQLite's INTEGER
 * affinity); pg returns int8 as strings, which the repositories convert with a safe-integer check.
 *
 * The ledger has no foreign keys on purpose: a record must be writable in a batch without
 * per-row lookups, and it must survive a tenant or key being deleted (it is a financial record).
 */
export const commerceMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("price_versions")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("target", "text") // null: every target of the endpoint
      .addColumn("tenant_id", "text") // null: every tenant
      .addColumn("currency", "text", (column) => column.notNull())
      .addColumn("input_per_million_micros", "bigint", (column) => column.notNull())
      .addColumn("output_per_million_micros", "bigint", (column) => column.notNull())
      .addColumn("per_request_micros", "bigint", (column) => column.notNull())
      .addColumn("per_predict_item_micros", "bigint", (column) => column.notNull())
      .addColumn("effective_from", "text", (column) => column.notNull())
      .addColumn("source", "text", (column) => column.notNull()) // config | admin
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("price_versions_endpoint_index")
      .on("price_versions")
      .columns(["endpoint", "effective_from"])
      .execute();

    await db.schema
      .createTable("tenant_plans")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("name", "text", (column) => column.notNull())
      .addColumn("included_micros", "bigint", (column) => column.notNull())
      .addColumn("adjustment_bps", "integer", (column) => column.notNull())
      .addColumn("effective_from", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("tenant_plans_tenant_index")
      .on("tenant_plans")
      .columns(["tenant_id", "effective_from"])
      .execute();

    await db.schema
      .createTable("usage_records")
      .addColumn("request_id", "text", (column) => column.primaryKey()) // exactly once per request
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("key_id", "text", (column) => column.notNull())
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("target", "text")
      .addColumn("model", "text")
      .addColumn("kind", "text", (column) => column.notNull())
      .addColumn("status", "text", (column) => column.notNull())
      .addColumn("input_tokens", "bigint", (column) => column.notNull())
      .addColumn("output_tokens", "bigint", (column) => column.notNull())
      .addColumn("items", "bigint", (column) => column.notNull())
      .addColumn("price_version_id", "text")
      .addColumn("currency", "text", (column) => column.notNull())
      .addColumn("cost_micros", "bigint", (column) => column.notNull())
      .addColumn("input_cost_micros", "bigint", (column) => column.notNull())
      .addColumn("output_cost_micros", "bigint", (column) => column.notNull())
      .addColumn("time", "text", (column) => column.notNull())
      .execute();
    // Export (keyset by time, request id), invoices and partial-day queries scan a tenant's range.
    await db.schema
      .createIndex("usage_records_tenant_time_index")
      .on("usage_records")
      .columns(["tenant_id", "time", "request_id"])
      .execute();

    // One row per tenant/day/endpoint/key, updated in the same transaction as the records it sums.
    await db.schema
      .createTable("usage_daily")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("day", "text", (column) => column.notNull()) // YYYY-MM-DD, UTC
      .addColumn("endpoint", "text", (column) => column.notNull())
      .addColumn("key_id", "text", (column) => column.notNull())
      .addColumn("requests", "bigint", (column) => column.notNull())
      .addColumn("input_tokens", "bigint", (column) => column.notNull())
      .addColumn("output_tokens", "bigint", (column) => column.notNull())
      .addColumn("items", "bigint", (column) => column.notNull())
      .addColumn("cost_micros", "bigint", (column) => column.notNull())
      .addPrimaryKeyConstraint("usage_daily_pkey", ["tenant_id", "day", "endpoint", "key_id"])
      .execute();

    await db.schema
      .createTable("invoices")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("period", "text", (column) => column.notNull()) // YYYY-MM, UTC
      .addColumn("currency", "text", (column) => column.notNull())
      .addColumn("total_micros", "bigint", (column) => column.notNull())
      .addColumn("document", "text", (column) => column.notNull()) // the invoice JSON, frozen
      .addColumn("finalized_at", "text", (column) => column.notNull())
      .addUniqueConstraint("invoices_tenant_period_unique", ["tenant_id", "period"])
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("invoices").execute();
    await db.schema.dropTable("usage_daily").execute();
    await db.schema.dropTable("usage_records").execute();
    await db.schema.dropTable("tenant_plans").execute();
    await db.schema.dropTable("price_versions").execute();
  },
};
