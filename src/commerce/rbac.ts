import { ModelportError } from "../core/errors.js";
import type { Role } from "../core/storage.js";

/**
 * Who may do what. The operator (admin token, or the local CLI, which holds the data dir and
 * master key) may do everything. A tenant actor is an admin-scoped key acting with a role, and
 * only ever within its own tenant: another tenant's resources answer 404, as if they did not exist,
 * so ids cannot be probed.
 */
export type Permission =
  | "tenants:create"
  | "tenants:list-all"
  | "tenant:limits"
  | "tenant:read"
  | "keys:read"
  | "keys:create"
  | "keys:manage"
  | "users:read"
  | "users:manage"
  | "usage:read"
  | "invoices:read"
  | "endpoints:read"
  | "audit:read"
  | "requests:read"
  | "requests:erase"
  | "requests:decrypt"
  | "webhooks:manage"
  | "alerts:read"
  | "audit:verify"
  | "metrics:read"
  | "tenant:plan"
  | "training:read"
  | "training:manage"
  | "drift:read"
  | "drift:check";

const everyone: Role[] = ["owner", "admin", "developer", "billing", "viewer"];

/**
 * Operator-only permissions: no tenant role holds them. Training jobs, the registry and drift
 * belong here because models and endpoints are shared by every tenant, and a drift report
 * summarizes traffic across tenants.
 */
type OperatorPermission =
  | "tenants:create"
  | "tenants:list-all"
  | "tenant:limits"
  | "tenant:plan"
  | "metrics:read"
  | "audit:verify"
  | "training:read"
  | "training:manage"
  | "drift:read"
  | "drift:check";

const grants: Record<Exclude<Permission, OperatorPermission>, Role[]> = {
  "tenant:read": everyone,
  "keys:read": ["owner", "admin", "developer", "viewer"],
  "keys:create": ["owner", "admin", "developer"],
  "keys:manage": ["owner", "admin"],
  "users:read": ["owner", "admin"],
  "users:manage": ["owner", "admin"],
  "usage:read": ["owner", "admin", "developer", "billing"],
  "invoices:read": ["owner", "admin", "billing"],
  "endpoints:read": everyone,
  "audit:read": ["owner", "admin"],
  "requests:read": ["owner", "admin", "developer"],
  "requests:erase": ["owner", "admin"],
  "requests:decrypt": ["owner", "admin"],
  "webhooks:manage": ["owner", "admin"],
  "alerts:read": ["owner", "admin", "developer", "billing"],
};

/** Higher ranks may grant lower ones; nobody grants above their own rank. */
export const roleRank: Record<Role, number> = { owner: 4, admin: 3, developer: 2, billing: 2, viewer: 1 };

export type Actor = { kind: "operator" } | { kind: "tenant"; tenantId: string; role: Role; keyId: string };

export const operator: Actor = Object.freeze({ kind: "operator" });

export function can(actor: Actor, permission: Permission): boolean {
  if (actor.kind === "operator") return true;
  const roles = (grants as Partial<Record<Permission, Role[]>>)[permission];
  return roles?.includes(actor.role) ?? false;
}

/**
 * Throws unless the actor may use `permission` on `tenantId` (when given): MP_NOT_FOUND for another
 * tenant's resource (before the role is even considered), MP_FORBIDDEN for an insufficient role.
 */
export function authorize(
  actor: Actor,
  permission: Permission,
  tenantId?: string,
  notFound = "no such resource",
): void {
  if (actor.kind === "operator") return;
  if (tenantId !== undefined && tenantId !== actor.tenantId) throw new ModelportError("MP_NOT_FOUND", notFound);
  if (!can(actor, permission))
    throw new ModelportError(
      "MP_FORBIDDEN",
      `the '${actor.role}' role may not ${permission.replace(":", " ")}; ask an owner or admin of the tenant`,
    );
}

/** A tenant actor may only grant roles at or below its own rank. */
export function authorizeGrant(actor: Actor, role: Role): void {
  if (actor.kind === "operator") return;
  if (roleRank[role] > roleRank[actor.role])
    throw new ModelportError("MP_FORBIDDEN", `the '${actor.role}' role may not grant the '${role}' role`, {
      param: "role",
    });
}
