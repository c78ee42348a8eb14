import type { Clock } from "../core/clock.js";
import type { ApiKeyRecord, KeyScope, Role, Storage, TenantRecord, UsageLimits, UserRecord } from "../core/storage.js";
import { digestsEqual, hashSecret, looksLikeApiKey } from "./api-key-format.js";

/** Who is calling, as later stages (limits, metering, logs) see it. */
export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
  keyPrefix: string;
  scopes: readonly KeyScope[];
  /** The role an admin-scoped key acts with (its own, or its user's); null for inference-only keys. */
  role: Role | null;
  keyLimits: Readonly<UsageLimits>;
  tenantLimits: Readonly<UsageLimits>;
}

export type AuthenticationResult =
  | { ok: true; principal: Principal }
  | { ok: false; reason: "missing" | "malformed" | "unknown" | "revoked" | "expired" | "disabled" };

interface CacheEntry {
  key: ApiKeyRecord;
  tenant: TenantRecord;
  user: UserRecord | undefined;
  validUntil: number;
}

export interface Authenticator {
  authenticate(presented: string | undefined): Promise<AuthenticationResult>;
  /** Drops a key from this process's cache at once (revocation, rotation, limit changes). */
  forget(keyId: string): void;
  /** Drops every cached key of a tenant (tenant limits changed). */
  forgetTenant(tenantId: string): void;
}

const lastUsedWriteIntervalMs = 60_000;

/**
 * Validates tenant keys. The lookup goes by keyed hash (an index hit whose timing reveals nothing
 * about other keys) and the found hash is compared in constant time. Validated keys are cached for
 * `cacheTtlMs` so the hot path does not hit the database; revocations in this process evict at
 * once, revocations by another process take effect within the TTL.
 */
export function createAuthenticator(options: {
  storage: Storage;
  hashingKey: Buffer;
  clock: Clock;
  cacheTtlMs: number;
  onError?: (error: unknown) => void;
}): Authenticator {
  const { storage, hashingKey, clock, cacheTtlMs } = options;
  const cache = new Map<string, CacheEntry>();
  const lastUsedWritten = new Map<string, number>();

  function recordUse(key: ApiKeyRecord, now: number): void {
    const last = lastUsedWritten.get(key.id) ?? 0;
    if (now - last < lastUsedWriteIntervalMs) return;
    lastUsedWritten.set(key.id, now);
    storage.apiKeys.touchLastUsed(key.id, new Date(now).toISOString()).catch((error) => options.onError?.(error));
  }

  function judge(entry: CacheEntry, now: number): AuthenticationResult {
    if (entry.key.revokedAt !== null) return { ok: false, reason: "revoked" };
    if (entry.key.expiresAt !== null && Date.parse(entry.key.expiresAt) <= now) return { ok: false, reason: "expired" };
    if (entry.key.userId !== null && (!entry.user || entry.user.disabledAt !== null))
      return { ok: false, reason: "disabled" };
    recordUse(entry.key, now);
    return {
      ok: true,
      principal: {
        tenantId: entry.tenant.id,
        tenantName: entry.tenant.name,
        keyId: entry.key.id,
        keyPrefix: entry.key.prefix,
        scopes: entry.key.scopes,
        role: entry.key.scopes.includes("admin") ? (entry.key.role ?? entry.user?.role ?? null) : null,
        keyLimits: entry.key.limits,
        tenantLimits: entry.tenant.limits,
      },
    };
  }

  return {
    async authenticate(presented) {
      if (!presented) return { ok: false, reason: "missing" };
      if (!looksLikeApiKey(presented)) return { ok: false, reason: "malformed" };
      const hash = hashSecret(hashingKey, presented);
      const now = clock.now();
      const cached = cache.get(hash);
      if (cached && cached.validUntil > now) return judge(cached, now);

      const key = await storage.apiKeys.findByHash(hash);
      if (!key || !digestsEqual(key.hash, hash)) return { ok: false, reason: "unknown" };
      const tenant = await storage.tenants.getById(key.tenantId);
      if (!tenant) return { ok: false, reason: "unknown" };
      const user = key.userId === null ? undefined : await storage.users.getForTenant(tenant.id, key.userId);
      const entry = { key, tenant, user, validUntil: now + cacheTtlMs };
      if (cacheTtlMs > 0) cache.set(hash, entry);
      return judge(entry, now);
    },
    forget(keyId) {
      for (const [hash, entry] of cache) if (entry.key.id === keyId) cache.delete(hash);
    },
    forgetTenant(tenantId) {
      for (const [hash, entry] of cache) if (entry.tenant.id === tenantId) cache.delete(hash);
    },
  };
}
