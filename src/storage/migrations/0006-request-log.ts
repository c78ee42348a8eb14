import type { Kysely, Migration } from "kysely";

/**
 * One row per gateway request: who, what, how it went, what it cost. Payload columns hold
 * ciphertext (never plaintext) and are empty unless payload logging is switched on. The end user
 * is stored as a keyed hash so one user's records can be found and erased without keeping the id.
 */
export const requestLogMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("request_log")
      .addColumn("request_id", "text", (column) => column.primaryKey())
      .addColumn("time", "text", (column) => column.notNull())
      .addColumn("tenant_id", "text")
      .addColumn("key_id", "text")
      .addColumn("end_user_hash", "text")
      .addColumn("protocol", "text", (column) => column.notNull())
      .addColumn("method", "text", (column) => column.notNull())
      .addColumn("path", "text", (column) => column.notNull())
      .addColumn("endpoint", "text")
      .addColumn("target", "text")
      .addColumn("model_version", "text")
      .addColumn("status", "integer", (column) => column.notNull())
      .addColumn("error_code", "text")
      .addColumn("latency_us", "bigint", (column) => column.notNull())
      .addColumn("overhead_us", "bigint", (column) => column.notNull())
      .addColumn("input_tokens", "bigint")
      .addColumn("output_tokens", "bigint")
      .addColumn("cost_micros", "bigint")
      .addColumn("cache_hit", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("stream", "integer", (column) => column.notNull().defaultTo(0))
      .addColumn("guard_verdicts", "text")
      .addColumn("request_payload", "text")
      .addColumn("response_payload", "text")
      .execute();
    await db.schema.createIndex("request_log_tenant_time").on("request_log").columns(["tenant_id", "time"]).execute();
    await db.schema.createIndex("request_log_time").on("request_log").column("time").execute();
    await db.schema
      .createIndex("request_log_end_user")
      .on("request_log")
      .columns(["tenant_id", "end_user_hash"])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("request_log").execute();
  },
};
