import { createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { sql } from "kysely";
import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { attempt } from "../../storage/errors.js";
import type { AuditRecorder } from "../audit/audit-types.js";
import { keyBytes } from "./aes-gcm.js";
import { createKeyCache } from "./key-cache.js";
import { deriveKeyEncryptionKey, type KeyEncryptionKey, unwrapDataKey, wrapDataKey } from "./key-wrap.js";

export interface DataKeyStoreOptions {
  database: Pick<DatabaseHandle, "db" | "dialect">;
  masterKey: Buffer;
  /** Older master keys, accepted for unwrapping during a master-key rotation. */
  previousMasterKeys?: readonly Buffer[] | undefined;
  clock?: Clock | undefined;
  /** Unwrapped-key cache; defaults 1,000 entries for 60 s. `ttlMs: 0` disables it. */
  cache?: { maxEntries?: number | undefined; ttlMs?: number | undefined } | undefined;
  /** When set, key creation, rotation, destruction and re-wrapping are recorded. */
  audit?: AuditRecorder | undefined;
}

export interface DataKeyInfo {
  version: number;
  kekId: string;
  createdAt: string;
  destroyedAt: string | null;
}

export interface DestroyResult {
  /** Key versions destroyed by this call. */
  destroyed: number;
  /**
   * Whether the old bytes were also scrubbed from the database files (SQLite: secure_delete and
   * a truncating WAL checkpoint; PostgreSQL: VACUUM FULL of the key table). False means only the
   * logical delete happened (e.g. another reader held the WAL): backups and WAL archives are
   * never reachable from here in any case.
   */
  purged: boolean;
}

export interface ActorOption {
  actor?: string | undefined;
}

/** Per-tenant data keys: created on first use, versioned, wrapped under the master key. */
export interface DataKeyStore {
  /** The tenant's newest key, creating version 1 on first use. MP_KEY_DESTROYED after shredding. */
  current(tenantId: string): Promise<{ version: number; key: KeyObject }>;
  /** A specific version, for decryption. MP_KEY_DESTROYED if shredded, MP_DECRYPT_FAILED if unknown. */
  get(tenantId: string, version: number): Promise<KeyObject>;
  /** Adds a new version; new writes use it, old versions still decrypt. Works after shredding too. */
  rotate(tenantId: string, options?: ActorOption): Promise<number>;
  /** Crypto-shredding: forgets every wrapped key of the tenant, so its ciphertexts are unreadable. */
  destroy(tenantId: string, options?: ActorOption): Promise<DestroyResult>;
  list(tenantId: string): Promise<DataKeyInfo[]>;
  /** Master-key rotation: re-wraps keys wrapped by a previous master key under the current one. */
  rewrapUnderCurrentMasterKey(options?: ActorOption): Promise<{ rewrapped: number; unknownMasterKey: number }>;
  /** Drops cached keys (one tenant, or all). */
  forget(tenantId?: string): void;
  /** Id of the current key-encryption key (stored as `kek_id`). */
  readonly kekId: string;
}

export function createDataKeyStore(options: DataKeyStoreOptions): DataKeyStore {
  const { db, dialect } = options.database;
  const clock = options.clock ?? systemClock;
  const current = deriveKeyEncryptionKey(options.masterKey);
  const keks = new Map<string, KeyEncryptionKey>([[current.id, current]]);
  for (const previous of options.previousMasterKeys ?? []) {
    const kek = deriveKeyEncryptionKey(previous);
    if (!keks.has(kek.id)) keks.set(kek.id, kek);
  }
  const cache = createKeyCache<{ version: number; key: KeyObject }>({
    maxEntries: options.cache?.maxEntries ?? 1_000,
    ttlMs: options.cache?.ttlMs ?? 60_000,
    clock,
  });
  const prefix = (tenantId: string) => `${tenantId}\u0000`;
  const now = () => new Date(clock.now()).toISOString();

  function unwrap(tenantId: string, row: { version: number; wrapped_key: string | null; kek_id: string }): KeyObject {
    if (row.wrapped_key === null)
      throw new ModelportError(
        "MP_KEY_DESTROYED",
        `data key version ${row.version} of tenant ${tenantId} was destroyed: the data it protected is unrecoverable`,
      );
    const kek = keks.get(row.kek_id);
    if (kek === undefined)
      throw new ModelportError(
        "MP_DECRYPT_FAILED",
        `data key version ${row.version} of tenant ${tenantId} is wrapped by another master key (kek ${row.kek_id}): pass the previous master key to re-wrap it`,
      );
    try {
      // A KeyObject, not raw bytes: node prepares it once, which makes each cipher set-up cheaper.
      return createSecretKey(unwrapDataKey(kek, row.wrapped_key, { tenantId, version: row.version }));
    } catch (error) {
      throw new ModelportError(
        "MP_DECRYPT_FAILED",
        `data key version ${row.version} of tenant ${tenantId} failed to unwrap (altered or moved)`,
        { cause: error },
      );
    }
  }

  async function insertVersion(tenantId: string, version: number): Promise<KeyObject | undefined> {
    const key = randomBytes(keyBytes);
    const result = await attempt("storing a data key", () =>
      db
        .insertInto("tenant_data_keys")
        .values({
          tenant_id: tenantId,
          version,
          wrapped_key: wrapDataKey(current, key, { tenantId, version }),
          kek_id: current.id,
          created_at: now(),
          destroyed_at: null,
        })
        .onConflict((conflict) => conflict.columns(["tenant_id", "version"]).doNothing())
        .executeTakeFirst(),
    );
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n ? createSecretKey(key) : undefined;
  }

  function newest(tenantId: string) {
    return attempt("reading data keys", () =>
      db
        .selectFrom("tenant_data_keys")
        .select(["version", "wrapped_key", "kek_id"])
        .where("tenant_id", "=", tenantId)
        .orderBy("version", "desc")
        .limit(1)
        .executeTakeFirst(),
    );
  }

  async function record(
    action: "data-key-created" | "data-key-rotated",
    tenantId: string,
    version: number,
    actor?: string,
  ) {
    await options.audit?.record({
      action,
      actor: actor ?? "system",
      tenantId,
      target: `data-key:${tenantId}/v${version}`,
      details: { version, kekId: current.id },
    });
  }

  return {
    kekId: current.id,

    async current(tenantId) {
      const cached = cache.get(`${prefix(tenantId)}current`);
      if (cached !== undefined) return cached;
      let row = await newest(tenantId);
      if (row === undefined) {
        // Two writers racing on a new tenant: the primary key lets one insert win; both then use it.
        const created = await insertVersion(tenantId, 1);
        if (created !== undefined) await record("data-key-created", tenantId, 1);
        row = await newest(tenantId);
        if (row === undefined) throw new ModelportError("MP_STORAGE_ERROR", "data key vanished after creation");
      }
      const entry = { version: row.version, key: unwrap(tenantId, row) };
      cache.set(`${prefix(tenantId)}current`, entry);
      cache.set(`${prefix(tenantId)}${row.version}`, entry);
      return entry;
    },

    async get(tenantId, version) {
      const cached = cache.get(`${prefix(tenantId)}${version}`);
      if (cached !== undefined) return cached.key;
      const row = await attempt("reading a data key", () =>
        db
          .selectFrom("tenant_data_keys")
          .select(["version", "wrapped_key", "kek_id"])
          .where("tenant_id", "=", tenantId)
          .where("version", "=", version)
          .executeTakeFirst(),
      );
      if (row === undefined)
        throw new ModelportError("MP_DECRYPT_FAILED", `tenant ${tenantId} has no data key version ${version}`);
      const key = unwrap(tenantId, row);
      cache.set(`${prefix(tenantId)}${version}`, { version, key });
      return key;
    },

    async rotate(tenantId, rotateOptions) {
      for (let attemptNumber = 0; attemptNumber < 5; attemptNumber++) {
        const latest = await newest(tenantId);
        const version = (latest?.version ?? 0) + 1;
        const key = await insertVersion(tenantId, version);
        if (key === undefined) continue; // a concurrent rotation took this version: go again
        cache.deletePrefix(prefix(tenantId));
        cache.set(`${prefix(tenantId)}current`, { version, key });
        cache.set(`${prefix(tenantId)}${version}`, { version, key });
        await record(version === 1 ? "data-key-created" : "data-key-rotated", tenantId, version, rotateOptions?.actor);
        return version;
      }
      throw new ModelportError(
        "MP_CONFLICT",
        `could not rotate the data key of tenant ${tenantId}: too many concurrent rotations`,
      );
    },

    async destroy(tenantId, destroyOptions) {
      const at = now();
      let purged = false;
      const destroyed = await attempt("destroying data keys", async () => {
        if (dialect === "sqlite") {
          // Hold the one connection so the pragma covers exactly this update, then push the
          // change out of the WAL so the old wrapped keys do not linger in either file.
          return db.connection().execute(async (connection) => {
            await sql`pragma secure_delete = on`.execute(connection);
            try {
              const result = await connection
                .updateTable("tenant_data_keys")
                .set({ wrapped_key: null, destroyed_at: at })
                .where("tenant_id", "=", tenantId)
                .where("destroyed_at", "is", null)
                .executeTakeFirst();
              const checkpoint = await sql<{ busy: number }>`pragma wal_checkpoint(truncate)`.execute(connection);
              purged = checkpoint.rows[0]?.busy === 0;
              return Number(result.numUpdatedRows);
            } finally {
              await sql`pragma secure_delete = off`.execute(connection);
            }
          });
        }
        const result = await db
          .updateTable("tenant_data_keys")
          .set({ wrapped_key: null, destroyed_at: at })
          .where("tenant_id", "=", tenantId)
          .where("destroyed_at", "is", null)
          .executeTakeFirst();
        try {
          // Rewrites the (small) table into new files, dropping dead tuples that still hold the keys.
          await sql`vacuum full tenant_data_keys`.execute(db);
          purged = true;
        } catch {
          purged = false; // e.g. not the table owner: the logical delete still stands
        }
        return Number(result.numUpdatedRows);
      });
      cache.deletePrefix(prefix(tenantId));
      await options.audit?.record({
        action: "data-keys-destroyed",
        actor: destroyOptions?.actor ?? "system",
        tenantId,
        target: `tenant:${tenantId}`,
        details: { versions: destroyed, purged },
      });
      return { destroyed, purged };
    },

    async list(tenantId) {
      const rows = await attempt("listing data keys", () =>
        db
          .selectFrom("tenant_data_keys")
          .select(["version", "kek_id", "created_at", "destroyed_at"])
          .where("tenant_id", "=", tenantId)
          .orderBy("version", "asc")
          .execute(),
      );
      return rows.map((row) => ({
        version: row.version,
        kekId: row.kek_id,
        createdAt: row.created_at,
        destroyedAt: row.destroyed_at,
      }));
    },

    async rewrapUnderCurrentMasterKey(rewrapOptions) {
      const rows = await attempt("listing data keys to re-wrap", () =>
        db
          .selectFrom("tenant_data_keys")
          .select(["tenant_id", "version", "wrapped_key", "kek_id"])
          .where("wrapped_key", "is not", null)
          .where("kek_id", "!=", current.id)
          .execute(),
      );
      let rewrapped = 0;
      let unknownMasterKey = 0;
      for (const row of rows) {
        // Wrapped by a master key we were not given: leave it, count it, so the operator can
        // run again with that key in previousMasterKeys.
        if (!keks.has(row.kek_id)) {
          unknownMasterKey++;
          continue;
        }
        const key = unwrap(row.tenant_id, row).export();
        const wrapped = wrapDataKey(current, key, { tenantId: row.tenant_id, version: row.version });
        // Compare-and-set on the old kek_id: a concurrent re-wrap or destroy wins cleanly.
        const result = await attempt("re-wrapping a data key", () =>
          db
            .updateTable("tenant_data_keys")
            .set({ wrapped_key: wrapped, kek_id: current.id })
            .where("tenant_id", "=", row.tenant_id)
            .where("version", "=", row.version)
            .where("kek_id", "=", row.kek_id)
            .where("wrapped_key", "is not", null)
            .executeTakeFirst(),
        );
        rewrapped += Number(result.numUpdatedRows);
      }
      if (rewrapped > 0)
        await options.audit?.record({
          action: "data-keys-rewrapped",
          actor: rewrapOptions?.actor ?? "system",
          target: "tenant_data_keys",
          details: { rewrapped, unknownMasterKey, kekId: current.id },
        });
      return { rewrapped, unknownMasterKey };
    },

    forget(tenantId) {
      if (tenantId === undefined) cache.clear();
      else cache.deletePrefix(prefix(tenantId));
    },
  };
}
