/**
 * The storage port: what the rest of Modelport may ask of a database. One implementation
 * (kysely) serves SQLite and PostgreSQL; both run the same contract suite
 * (`core/testing/storage-contract.ts`). Times are ISO-8601 UTC strings (`2026-11-22T05:21:00.000Z`),
 * which sort and compare the same way in both databases.
 */
/** Tenant roles, most to least privileged (see commerce/rbac.ts for what each may do). */
export type Role = "owner" | "admin" | "developer" | "billing" | "viewer";
export const roles: readonly Role[] = ["owner", "admin", "developer", "billing", "viewer"];

/** What a key may call: inference routes (/v1, /v2) and/or the admin API as its role allows. */
export type KeyScope = "inference" | "admin";
export const keyScopes: readonly KeyScope[] = ["inference", "admin"];

/** Limits on a tenant or a key; null means no limit at this level. Money in micro-units (USD). */
export interface UsageLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrency: number | null;
  monthlyBudgetMicros: number | null;
}

export const noLimits: Readonly<UsageLimits> = Object.freeze({
  requestsPerMinute: null,
  tokensPerMinute: null,
  concurrency: null,
  monthlyBudgetMicros: null,
});

export interface TenantRecord {
  id: string;
  name: string;
  createdAt: string;
  limits: UsageLimits;
}

export interface UserRecord {
  id: string;
  tenantId: string;
  email: string;
  role: Role;
  createdAt: string;
  disabledAt: string | null;
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
  scopes: KeyScope[];
  /** The role an admin-scoped key acts with; null for inference-only keys or keys acting as their user. */
  role: Role | null;
  /** The user this key belongs to, whose role it acts with when `role` is null. */
  userId: string | null;
  limits: UsageLimits;
  /** Set on a key made by rotation: the key it replaces. */
  rotatedFromId: string | null;
}

export interface TenantRepository {
  /** Fails with MP_CONFLICT when the name is taken. */
  create(tenant: TenantRecord): Promise<TenantRecord>;
  getById(id: string): Promise<TenantRecord | undefined>;
  getByName(name: string): Promise<TenantRecord | undefined>;
  list(): Promise<TenantRecord[]>;
  /** Replaces the tenant's limits; undefined when no such tenant. */
  updateLimits(id: string, limits: UsageLimits): Promise<TenantRecord | undefined>;
}

export interface UserRepository {
  /** Fails with MP_CONFLICT when the tenant already has a user with this email. */
  create(user: UserRecord): Promise<UserRecord>;
  getForTenant(tenantId: string, id: string): Promise<UserRecord | undefined>;
  listForTenant(tenantId: string): Promise<UserRecord[]>;
  /** Tenant-scoped update; undefined when no such user in that tenant. */
  update(
    tenantId: string,
    id: string,
    changes: { role?: Role; disabledAt?: string | null },
  ): Promise<UserRecord | undefined>;
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
  /** Tenant-scoped update of limits, name or expiry; undefined when no such key in that tenant. */
  update(
    tenantId: string,
    id: string,
    changes: { limits?: UsageLimits; name?: string | null; expiresAt?: string | null },
  ): Promise<ApiKeyRecord | undefined>;
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
  readonly users: UserRepository;
  readonly settings: SettingsRepository;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
