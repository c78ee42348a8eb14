import type { AuditEventInput, AuditRecorder } from "../core/audit.js";
import type { Clock } from "../core/clock.js";
import { ModelportError } from "../core/errors.js";
import { randomId } from "../core/ids.js";
import {
  type ApiKeyRecord,
  type KeyScope,
  keyScopes,
  noLimits,
  type Role,
  roles,
  type Storage,
  type TenantRecord,
  type UsageLimits,
  type UserRecord,
} from "../core/storage.js";
import { generateApiKey, hashSecret } from "./api-key-format.js";
import { type Actor, authorize, authorizeGrant } from "./rbac.js";

/** A key as shown to operators: everything but the hash. */
export type ApiKeyView = Omit<ApiKeyRecord, "hash">;

export function viewKey(key: ApiKeyRecord): ApiKeyView {
  const { hash: _hash, ...view } = key;
  return view;
}

export interface CreateKeyInput {
  name?: string | undefined;
  expiresAt?: string | undefined;
  scopes?: KeyScope[] | undefined;
  role?: Role | undefined;
  userId?: string | undefined;
  limits?: Partial<UsageLimits> | undefined;
}

const tenantNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const emailPattern = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

/** Validates limits: positive safe integers or null. */
export function checkLimits(limits: Partial<UsageLimits>, base: UsageLimits = noLimits): UsageLimits {
  const merged = { ...base, ...limits };
  for (const [name, value] of Object.entries(merged)) {
    if (value === null) continue;
    if (!Number.isSafeInteger(value) || value < 0)
      throw invalid(`${name} must be a non-negative integer or null`, `limits.${name}`);
  }
  return merged;
}

/**
 * Tenant, user and key lifecycle, shared by the admin API and the CLI so both enforce the same
 * rules. Every method takes the acting principal and authorizes it (commerce/rbac.ts); the local
 * CLI acts as the operator. `onKeyChanged` lets the server evict its auth cache at once.
 */
export function createTenantService(options: {
  storage: Storage;
  hashingKey: Buffer;
  clock: Clock;
  onKeyChanged?: (keyId: string) => void;
  /** Every change is recorded here (after it commits); a failed write is reported, not thrown. */
  audit?: AuditRecorder | undefined;
  onAuditError?: (error: unknown) => void;
}) {
  const { storage, hashingKey, clock } = options;
  const nowIso = () => new Date(clock.now()).toISOString();

  async function audited(actor: Actor, event: Omit<AuditEventInput, "actor">): Promise<void> {
    if (!options.audit) return;
    try {
      await options.audit.record({ ...event, actor: actor.kind === "operator" ? "admin" : `key:${actor.keyId}` });
    } catch (error) {
      options.onAuditError?.(error);
    }
  }

  async function resolveTenant(
    actor: Actor,
    idOrName: string,
    permission: Parameters<typeof authorize>[1] = "tenant:read",
  ) {
    const notFound = `no tenant with id or name '${idOrName}'`;
    const tenant = (await storage.tenants.getById(idOrName)) ?? (await storage.tenants.getByName(idOrName));
    if (!tenant) throw new ModelportError("MP_NOT_FOUND", notFound);
    authorize(actor, permission, tenant.id, notFound);
    return tenant;
  }

  /** A key the actor may manage: another tenant's key is "not found". */
  async function resolveKey(actor: Actor, id: string, permission: "keys:manage" | "keys:read") {
    const key =
      actor.kind === "operator"
        ? await storage.apiKeys.getById(id)
        : await storage.apiKeys.getForTenant(actor.tenantId, id);
    const notFound = `no API key with id '${id}'`;
    if (!key) throw new ModelportError("MP_NOT_FOUND", notFound);
    authorize(actor, permission, key.tenantId, notFound);
    return key;
  }

  async function createKey(
    actor: Actor,
    tenantIdOrName: string,
    input: CreateKeyInput = {},
    rotatedFromId: string | null = null,
  ): Promise<{ key: string; record: ApiKeyView; tenant: TenantRecord }> {
    const tenant = await resolveTenant(actor, tenantIdOrName, "keys:create");
    if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt)))
      throw invalid("expiresAt must be an ISO-8601 time", "expiresAt");
    const scopes = [...new Set<KeyScope>(input.scopes ?? ["inference"])];
    if (scopes.length === 0 || !scopes.every((scope) => keyScopes.includes(scope)))
      throw invalid(`scopes must be a non-empty list of ${keyScopes.join(", ")}`, "scopes");
    let role: Role | null = null;
    let userId: string | null = null;
    if (scopes.includes("admin")) {
      if (input.userId) {
        const user = await storage.users.getForTenant(tenant.id, input.userId);
        if (!user || user.disabledAt)
          throw new ModelportError("MP_NOT_FOUND", `no active user '${input.userId}' in this tenant`);
        authorizeGrant(actor, user.role);
        userId = user.id;
      } else {
        if (!input.role || !roles.includes(input.role))
          throw invalid(`an admin-scoped key needs a role (${roles.join(", ")}) or a userId`, "role");
        authorizeGrant(actor, input.role);
        role = input.role;
      }
    } else if (input.role || input.userId) {
      throw invalid("role and userId apply to admin-scoped keys only", input.role ? "role" : "userId");
    }
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
      scopes,
      role,
      userId,
      limits: checkLimits(input.limits ?? {}),
      rotatedFromId,
    });
    await audited(actor, {
      action: rotatedFromId ? "api-key-rotated" : "api-key-created",
      tenantId: tenant.id,
      target: `api-key:${record.id}`,
      details: { prefix, scopes: scopes.join(","), role, rotatedFromId },
    });
    return { key, record: viewKey(record), tenant };
  }

  return {
    /** For the CLI and routes that name a tenant: resolves by id or name and authorizes reading it. */
    resolveTenant: (actor: Actor, idOrName: string) => resolveTenant(actor, idOrName),

    async createTenant(actor: Actor, name: string, limits: Partial<UsageLimits> = {}): Promise<TenantRecord> {
      authorize(actor, "tenants:create");
      if (!tenantNamePattern.test(name))
        throw invalid(
          "tenant name must be 1-63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
          "name",
        );
      const tenant = await storage.tenants.create({
        id: randomId("ten", 16),
        name,
        createdAt: nowIso(),
        limits: checkLimits(limits),
      });
      await audited(actor, {
        action: "tenant-created",
        tenantId: tenant.id,
        target: `tenant:${tenant.id}`,
        details: { name },
      });
      return tenant;
    },

    async listTenants(actor: Actor): Promise<TenantRecord[]> {
      if (actor.kind === "operator") return storage.tenants.list();
      authorize(actor, "tenant:read");
      const own = await storage.tenants.getById(actor.tenantId);
      return own ? [own] : [];
    },

    async setTenantLimits(actor: Actor, idOrName: string, limits: Partial<UsageLimits>): Promise<TenantRecord> {
      const tenant = await resolveTenant(actor, idOrName, "tenant:limits");
      const updated = await storage.tenants.updateLimits(tenant.id, checkLimits(limits, tenant.limits));
      if (!updated) throw new ModelportError("MP_NOT_FOUND", `no tenant '${idOrName}'`);
      await audited(actor, {
        action: "limits-changed",
        tenantId: tenant.id,
        target: `tenant:${tenant.id}`,
        details: { ...updated.limits },
      });
      return updated;
    },

    createKey: (actor: Actor, tenantIdOrName: string, input: CreateKeyInput = {}) =>
      createKey(actor, tenantIdOrName, input),

    async listKeys(actor: Actor, tenantIdOrName: string): Promise<ApiKeyView[]> {
      const tenant = await resolveTenant(actor, tenantIdOrName, "keys:read");
      return (await storage.apiKeys.listForTenant(tenant.id)).map(viewKey);
    },

    async revokeKey(actor: Actor, id: string): Promise<ApiKeyView> {
      await resolveKey(actor, id, "keys:manage");
      const record = await storage.apiKeys.revoke(id, nowIso());
      if (!record) throw new ModelportError("MP_NOT_FOUND", `no API key with id '${id}'`);
      options.onKeyChanged?.(id);
      await audited(actor, { action: "api-key-revoked", tenantId: record.tenantId, target: `api-key:${id}` });
      return viewKey(record);
    },

    async updateKey(actor: Actor, id: string, changes: { name?: string | null; limits?: Partial<UsageLimits> }) {
      const key = await resolveKey(actor, id, "keys:manage");
      const updated = await storage.apiKeys.update(key.tenantId, id, {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.limits ? { limits: checkLimits(changes.limits, key.limits) } : {}),
      });
      if (!updated) throw new ModelportError("MP_NOT_FOUND", `no API key with id '${id}'`);
      options.onKeyChanged?.(id);
      if (changes.limits)
        await audited(actor, {
          action: "limits-changed",
          tenantId: key.tenantId,
          target: `api-key:${id}`,
          details: { ...updated.limits },
        });
      return viewKey(updated);
    },

    /**
     * Rotation with an overlap window: a new key with the same tenant, name, scopes, role, user and
     * limits; the old key keeps working for `overlapSeconds` (0 = revoked now), so clients can
     * switch without downtime.
     */
    async rotateKey(actor: Actor, id: string, overlapSeconds: number) {
      if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > 30 * 86_400)
        throw invalid("overlapSeconds must be an integer between 0 and 2592000 (30 days)", "overlapSeconds");
      const old = await resolveKey(actor, id, "keys:manage");
      if (old.revokedAt) throw new ModelportError("MP_CONFLICT", `key '${id}' is revoked; create a new key instead`);
      const created = await createKey(
        actor,
        old.tenantId,
        {
          name: old.name ?? undefined,
          scopes: old.scopes,
          ...(old.userId ? { userId: old.userId } : old.role ? { role: old.role } : {}),
          limits: old.limits,
          ...(old.expiresAt ? { expiresAt: old.expiresAt } : {}),
        },
        old.id,
      );
      const overlapEnds = new Date(clock.now() + overlapSeconds * 1000).toISOString();
      if (overlapSeconds === 0) await storage.apiKeys.revoke(old.id, nowIso());
      else if (!old.expiresAt || old.expiresAt > overlapEnds)
        await storage.apiKeys.update(old.tenantId, old.id, { expiresAt: overlapEnds });
      options.onKeyChanged?.(old.id);
      return { ...created, previousKeyExpiresAt: overlapEnds };
    },

    async createUser(actor: Actor, tenantIdOrName: string, input: { email: string; role: Role }): Promise<UserRecord> {
      const tenant = await resolveTenant(actor, tenantIdOrName, "users:manage");
      if (!emailPattern.test(input.email)) throw invalid("email must be an email address", "email");
      if (!roles.includes(input.role)) throw invalid(`role must be one of ${roles.join(", ")}`, "role");
      authorizeGrant(actor, input.role);
      const user = await storage.users.create({
        id: randomId("usr", 16),
        tenantId: tenant.id,
        email: input.email.toLowerCase(),
        role: input.role,
        createdAt: nowIso(),
        disabledAt: null,
      });
      await audited(actor, {
        action: "user-created",
        tenantId: tenant.id,
        target: `user:${user.id}`,
        details: { role: user.role },
        sensitive: { email: user.email },
      });
      return user;
    },

    async listUsers(actor: Actor, tenantIdOrName: string): Promise<UserRecord[]> {
      const tenant = await resolveTenant(actor, tenantIdOrName, "users:read");
      return storage.users.listForTenant(tenant.id);
    },

    async updateUser(
      actor: Actor,
      tenantIdOrName: string,
      userId: string,
      changes: { role?: Role; disabled?: boolean },
    ): Promise<UserRecord> {
      const tenant = await resolveTenant(actor, tenantIdOrName, "users:manage");
      const user = await storage.users.getForTenant(tenant.id, userId);
      if (!user) throw new ModelportError("MP_NOT_FOUND", `no user '${userId}' in this tenant`);
      authorizeGrant(actor, user.role); // may not touch someone above oneself
      if (changes.role !== undefined) {
        if (!roles.includes(changes.role)) throw invalid(`role must be one of ${roles.join(", ")}`, "role");
        authorizeGrant(actor, changes.role);
      }
      const updated = await storage.users.update(tenant.id, userId, {
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        ...(changes.disabled !== undefined ? { disabledAt: changes.disabled ? nowIso() : null } : {}),
      });
      if (!updated) throw new ModelportError("MP_NOT_FOUND", `no user '${userId}' in this tenant`);
      await audited(actor, {
        action: changes.disabled ? "user-disabled" : "user-updated",
        tenantId: tenant.id,
        target: `user:${userId}`,
        details: { role: updated.role, disabled: updated.disabledAt !== null },
      });
      // Keys acting as this user change with it: evict them from every auth cache in this process.
      for (const key of await storage.apiKeys.listForTenant(tenant.id))
        if (key.userId === userId) options.onKeyChanged?.(key.id);
      return updated;
    },
  };
}

export type TenantService = ReturnType<typeof createTenantService>;
