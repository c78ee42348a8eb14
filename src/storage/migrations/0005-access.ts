import type { Kysely, Migration } from "kysely";

/**
 * Access control and limits: tenant users with roles; keys with scopes, a role or a user, per-key
 * limits and budget, and rotation lineage; tenant-wide limits and budget. Money is integer
 * micro-units (bigint: PostgreSQL returns it as a string, repositories convert).
 */
export const accessMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("users")
      .addColumn("id", "text", (column) => column.primaryKey())
      .addColumn("tenant_id", "text", (column) => column.notNull().references("tenants.id"))
      .addColumn("email", "text", (column) => column.notNull())
      .addColumn("role", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("disabled_at", "text")
      .addUniqueConstraint("users_tenant_email_unique", ["tenant_id", "email"])
      .execute();

    const limitColumns = ["requests_per_minute", "tokens_per_minute", "concurrency", "monthly_budget_micros"] as const;
    for (const table of ["tenants", "api_keys"] as const) {
      for (const column of limitColumns) await db.schema.alterTable(table).addColumn(column, "bigint").execute();
    }
    await db.schema
      .alterTable("api_keys")
      .addColumn("scopes", "text", (column) => column.notNull().defaultTo('["inference"]'))
      .execute();
    await db.schema.alterTable("api_keys").addColumn("role", "text").execute();
    await db.schema.alterTable("api_keys").addColumn("user_id", "text").execute();
    await db.schema.alterTable("api_keys").addColumn("rotated_from_id", "text").execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const column of ["rotated_from_id", "user_id", "role", "scopes"])
      await db.schema.alterTable("api_keys").dropColumn(column).execute();
    for (const table of ["tenants", "api_keys"] as const) {
      for (const column of ["requests_per_minute", "tokens_per_minute", "concurrency", "monthly_budget_micros"])
        await db.schema.alterTable(table).dropColumn(column).execute();
    }
    await db.schema.dropTable("users").execute();
  },
};
