/**
 * The storage port: what the rest of Modelport may ask of a database. One implementation
 * (kysely) serves SQLite and PostgreSQL; both run the same contract suite
 * (`core/testing/storage-contract.ts`). Times are ISO-8601 UTC strings (`2026-11-22T05:21:00.000Z`),
 * which sort and compare the same way in both databases.
 */
export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string | null;
  /** The visible start of the key (`mp_live_ab12cd34`), for people to recognise it. */
  prefix: string;
  /** Hex HMAC-SHA256 of the whole key under the server's key-hashing secret. Never the key. */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export interface TenantRepository {
  /** Fails with MP_CONFLICT when the name is taken. */
  create(tenant: TenantRecord): Promise<TenantRecord>;
  getById(id: string): Promise<TenantRecord | undefined>;
  getByName(name: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
}

export interface ApiKeyRepository {
  create(key: ApiKeyRecord): Promise<ApiKeyRecord>;
  /** The authentication lookup: by keyed hash, across tenants (the hash identifies the tenant). */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Tenant-scoped read; `undefined` when the key belongs to another tenant. */
  getForTenant(tenantId: string, id: string): Promise<ApiKeyRecord | undefined>;
  /** Operator read (admin token / local CLI), not tenant-scoped. */
  getById(id: string): Promise<ApiKeyRecord | undefined>;
  listForTenant(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt if not yet revoked. Returns the record after the call, or undefined if no such key. */
  revoke(id: string, at: string): Promise<ApiKeyRecord | undefined>;
  /** Records use; implementations may coalesce writes. */
  touchLastUsed(id: string, at: string): Promise<void>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Inserts only when absent; true when this call inserted (a race-safe bootstrap). */
  setIfAbsent(key: string, value: string): Promise<boolean>;
}

export interface Storage {
  readonly dialect: "sqlite" | "postgres";
  readonly tenants: TenantRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly settings: SettingsRepository;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
