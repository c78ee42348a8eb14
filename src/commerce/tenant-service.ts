import type { Clock } from "../core/clock.js";
import { ModelportError } from "../core/errors.js";
import { randomId } from "../core/ids.js";
import type { ApiKeyRecord, Storage, TenantRecord } from "../core/storage.js";
import { generateApiKey, hashSecret } from "./api-key-format.js";

/** A key as shown to operators: everything but the hash. */
export interface ApiKeyView {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

export function viewKey(key: ApiKeyRecord): ApiKeyView {
  const { hash: _hash, ...view } = key;
  return view;
}

const tenantNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * Tenant and key lifecycle, shared by the admin API and the CLI so both enforce the same rules.
 * `onKeyRevoked` lets the server evict its auth cache at once.
 */
export function createTenantService(options: {
  storage: Storage;
  hashingKey: Buffer;
  clock: Clock;
  onKeyRevoked?: (keyId: string) => void;
}) {
  const { storage, hashingKey, clock } = options;
  const nowIso = () => new Date(clock.now()).toISOString();

  async function resolveTenant(idOrName: string): Promise<TenantRecord> {
    const tenant = (await storage.tenants.getById(idOrName)) ?? (await storage.tenants.getByName(idOrName));
    if (!tenant) throw new ModelportError("MP_NOT_FOUND", `no tenant with id or name '${idOrName}'`);
    return tenant;
  }

  return {
    resolveTenant,

    async createTenant(name: string): Promise<TenantRecord> {
      if (!tenantNamePattern.test(name))
        throw new ModelportError(
          "MP_INVALID_REQUEST",
          "tenant name must be 1-63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
          { param: "name" },
        );
      return storage.tenants.create({ id: randomId("ten", 16), name, createdAt: nowIso() });
    },

    listTenants: () => storage.tenants.list(),

    /** Creates a key and returns it in full; this is the only time the key exists outside the caller. */
    async createKey(
      tenantIdOrName: string,
      input: { name?: string | undefined; expiresAt?: string | undefined } = {},
    ): Promise<{ key: string; record: ApiKeyView; tenant: TenantRecord }> {
      const tenant = await resolveTenant(tenantIdOrName);
      if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt)))
        throw new ModelportError("MP_INVALID_REQUEST", "expiresAt must be an ISO-8601 time", { param: "expiresAt" });
      const { key, prefix } = generateApiKey();
      const record = await storage.apiKeys.create({
        id: randomId("key", 16),
        tenantId: tenant.id,
        name: input.name ?? null,
        prefix,
        hash: hashSecret(hashingKey, key),
        createdAt: nowIso(),
        revokedAt: null,
        lastUsedAt: null,
        expiresAt: input.expiresAt === undefined ? null : new Date(input.expiresAt).toISOString(),
      });
      return { key, record: viewKey(record), tenant };
    },

    async listKeys(tenantIdOrName: string): Promise<ApiKeyView[]> {
      const tenant = await resolveTenant(tenantIdOrName);
      return (await storage.apiKeys.listForTenant(tenant.id)).map(viewKey);
    },

    async revokeKey(id: string): Promise<ApiKeyView> {
      const record = await storage.apiKeys.revoke(id, nowIso());
      if (!record) throw new ModelportError("MP_NOT_FOUND", `no API key with id '${id}'`);
      options.onKeyRevoked?.(id);
      return viewKey(record);
    },
  };
}

export type TenantService = ReturnType<typeof createTenantService>;
