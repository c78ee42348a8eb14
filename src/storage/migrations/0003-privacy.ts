import type { Kysely, Migration } from "kysely";

/**
 * Encryption at rest and the audit trail.
 *
 * - `tenant_data_keys`: one row per (tenant, key version). `wrapped_key` is the tenant's random
 *   256-bit data key, AES-256-GCM-wrapped by a key-encryption key derived from the master key;
 *   `kek_id` names that key-encryption key so a master-key rotation can tell old wraps from new.
 *   Crypto-shredding sets `wrapped_key` to null and stamps `destroyed_at` (the row stays as a
 *   tombstone, so reading shredded data fails with "destroyed", not "unknown key"). No foreign key
 *   to tenants: the tombstones must outlive a deleted tenant.
 * - `audit_entries`: append-only hash chain; `seq` is assigned by the writer as last + 1 (not an
 *   autoincrement, which can leave gaps on rollback: a gap must mean a deleted entry).
 * - `audit_checkpoints`: Ed25519-signed (seq, hash) pairs, to detect a truncated or re-hashed chain.
 *
 * `integer` seq (not bigint) so both drivers return a JavaScript number; 2^31 entries is ample.
 */
export const privacyMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("tenant_data_keys")
      .addColumn("tenant_id", "text", (column) => column.notNull())
      .addColumn("version", "integer", (column) => column.notNull())
      .addColumn("wrapped_key", "text")
      .addColumn("kek_id", "text", (column) => column.notNull())
      .addColumn("created_at", "text", (column) => column.notNull())
      .addColumn("destroyed_at", "text")
      .addPrimaryKeyConstraint("tenant_data_keys_pk", ["tenant_id", "version"])
      .execute();

    await db.schema
      .createTable("audit_entries")
      .addColumn("seq", "integer", (column) => column.primaryKey())
      .addColumn("time", "text", (column) => column.notNull())
      .addColumn("tenant_id", "text")
      .addColumn("actor", "text", (column) => column.notNull())
      .addColumn("action", "text", (column) => column.notNull())
      .addColumn("target", "text")
      .addColumn("details_json", "text", (column) => column.notNull())
      .addColumn("prev_hash", "text", (column) => column.notNull())
      .addColumn("hash", "text", (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex("audit_entries_tenant_index")
      .on("audit_entries")
      .columns(["tenant_id", "seq"])
      .execute();
    await db.schema.createIndex("audit_entries_action_index").on("audit_entries").columns(["action", "seq"]).execute();

    await db.schema
      .createTable("audit_checkpoints")
      .addColumn("seq", "integer", (column) => column.primaryKey())
      .addColumn("hash", "text", (column) => column.notNull())
      .addColumn("signature", "text", (column) => column.notNull())
      .addColumn("key_fingerprint", "text", (column) => column.notNull())
      .addColumn("time", "text", (column) => column.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("audit_checkpoints").execute();
    await db.schema.dropTable("audit_entries").execute();
    await db.schema.dropTable("tenant_data_keys").execute();
  },
};
