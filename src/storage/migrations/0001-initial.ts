import type { Kysely, Migration } from "kysely";

/**
 * Tenants, their API keys and server settings. Migrations take an untyped `Kysely<unknown>` on purpose: they
 * describe the schema as it was at this point in history, not as `schema.ts` says it is today.
 * Only portable types (`text`) so one migration serves SQLite and PostgreSQL.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("tenants")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("name", "text", (column) => column.notNull().unique())
      .addColumn("created_at", "text", (column) => column.notNull())
      .execute();

    await db.schema
      .createTable("api_keys")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("name", "text")
      .addColumn("prefix", "text", (column) => column.notNull())
      .addColumn("hash", "text", (column) => column.notNull().unique())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("last_used_at", "text")
      .addColumn("expires_at", "text")
      .execute();
    await db.schema.createIndex("api_keys_tenant_id_index").on("api_keys").column("tenant_id").execute();

    await db.schema
      .createTable("settings")
      .addColumn("key", "text", (column) => column.primaryKey())
      .addColumn("value", "text", (column) => column.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("settings").execute();
    await db.schema.dropTable("api_keys").execute();
    await db.schema.dropTable("tenants").execute();
  },
};
