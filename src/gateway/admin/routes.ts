import type { Hono } from "hono";
import type { z } from "zod";
import { type Actor, authorize } from "../../commerce/rbac.js";
import type { TenantService } from "../../commerce/tenant-service.js";
import { ModelportError } from "../../core/errors.js";
import type { Role } from "../../core/storage.js";
import type { GatewayEnv } from "../context.js";
import type { EndpointRegistry } from "../endpoint-registry.js";
import type { Router } from "../resilience/router.js";
import { readJsonBody } from "../stages/json-body.js";
import { buildOpenApiDocument } from "./openapi.js";
import { optionalInteger, optionalTime } from "./query-params.js";
import { type AdminRoute, adminRoute, honoPath } from "./route-table.js";
import {
  createKeyBody,
  createTenantBody,
  createUserBody,
  createWebhookBody,
  eraseEndUserBody,
  limitsBody,
  rotateKeyBody,
  updateKeyBody,
  updateUserBody,
} from "./schemas.js";

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join(".") || undefined;
  const message =
    issue?.code === "unrecognized_keys"
      ? `unknown field(s): ${issue.keys.join(", ")}`
      : `${param ? `'${param}': ` : ""}${issue?.message ?? "invalid body"}`;
  throw new ModelportError("MP_INVALID_REQUEST", message, param ? { param } : {});
}

const param = (params: Record<string, string>, name: string) => params[name] ?? "";

/**
 * What the admin API needs of the request log (monitoring/request-log), tenant-scoped by the caller.
 * `actor` is who asks, as the audit trail names them (`admin`, `key:<id>`): every search is an
 * export, every plaintext read a decryption, every erasure a deletion on the trail.
 */
export interface RequestLogAdmin {
  search(
    query: {
      tenantId: string;
      endpoint?: string | undefined;
      status?: number | undefined;
      from?: string | undefined;
      to?: string | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
      /** `plaintext`: decrypt the stored prompts and answers into `requestText`/`responseText`. */
      payloads?: "plaintext" | undefined;
    },
    actor: string,
  ): Promise<{ data: unknown[]; nextCursor: string | null }>;
  eraseEndUser(tenantId: string, endUser: string, actor: string): Promise<number>;
}

/** The audit trail's name for an admin actor (as the tenant service records it). */
const auditActor = (actor: Actor): string => (actor.kind === "operator" ? "admin" : `key:${actor.keyId}`);

/** Stored prompts and answers in plaintext: a permission of its own (owner, admin), beyond requests:read. */
function authorizePlaintextPayloads(actor: Actor, tenantId: string): void {
  try {
    authorize(actor, "requests:decrypt", tenantId);
  } catch (error) {
    if (error instanceof ModelportError && error.code === "MP_FORBIDDEN")
      throw new ModelportError("MP_FORBIDDEN", `${error.message} (stored payloads in plaintext)`, {
        param: "payloads",
      });
    throw error;
  }
}

/** What the admin API needs of the audit trail (privacy/audit). */
export interface AuditAdmin {
  list(filter: {
    tenantId?: string | undefined;
    action?: string | undefined;
    actor?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<unknown>;
  verify(): Promise<unknown>;
}

/** Webhooks and alerts (monitoring/alerts), tenant-scoped by the caller. */
export interface AlertingAdmin {
  createWebhook(tenantId: string, url: string): Promise<unknown>;
  listWebhooks(tenantId: string): Promise<unknown[]>;
  listAlerts(tenantId: string | null): Promise<unknown[]>;
}

export interface AdminDeps {
  tenants: TenantService;
  endpoints: EndpointRegistry;
  router: Router;
  version: string;
  /** Tenant limits changed: evict that tenant's cached keys. */
  onTenantChanged?: (tenantId: string) => void;
  requestLog?: RequestLogAdmin | undefined;
  audit?: AuditAdmin | undefined;
  alerting?: AlertingAdmin | undefined;
  /** Routes of other features (commerce, training, drift, monitoring), each built by its own module. */
  extraRoutes?: readonly AdminRoute[] | undefined;
}

/** Every admin route, in one table (see route-table.ts). */
export function adminRoutes(deps: AdminDeps): AdminRoute[] {
  const { tenants, endpoints, router } = deps;
  return [
    adminRoute({
      method: "post",
      path: "/tenants",
      summary: "Create a tenant",
      permission: "tenants:create",
      body: createTenantBody,
      status: 201,
      handler: ({ actor, body }) => tenants.createTenant(actor, body.name, body.limits ?? {}),
    }),
    adminRoute({
      method: "get",
      path: "/tenants",
      summary: "List tenants (a tenant key sees its own)",
      permission: "tenant:read",
      handler: async ({ actor }) => ({ data: await tenants.listTenants(actor) }),
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}",
      summary: "Show a tenant (id or name)",
      permission: "tenant:read",
      handler: ({ actor, params }) => tenants.resolveTenant(actor, param(params, "tenant")),
    }),
    adminRoute({
      method: "put",
      path: "/tenants/{tenant}/limits",
      summary: "Set a tenant's rate limits, concurrency cap and monthly budget (operator only)",
      permission: "tenant:limits",
      body: limitsBody,
      handler: async ({ actor, params, body }) => {
        const tenant = await tenants.setTenantLimits(actor, param(params, "tenant"), body);
        deps.onTenantChanged?.(tenant.id);
        return tenant;
      },
    }),
    adminRoute({
      method: "post",
      path: "/tenants/{tenant}/keys",
      summary: "Create an API key; the key is in this response only",
      permission: "keys:create",
      body: createKeyBody,
      status: 201,
      handler: async ({ actor, params, body }) => {
        const created = await tenants.createKey(actor, param(params, "tenant"), {
          ...body,
          scopes: body.scopes as ("inference" | "admin")[] | undefined,
          role: body.role as Role | undefined,
        });
        return { ...created.record, key: created.key, tenant: created.tenant.name };
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/keys",
      summary: "List a tenant's keys (never the keys themselves)",
      permission: "keys:read",
      handler: async ({ actor, params }) => ({ data: await tenants.listKeys(actor, param(params, "tenant")) }),
    }),
    adminRoute({
      method: "post",
      path: "/keys/{id}/revoke",
      summary: "Revoke a key; it fails at once",
      permission: "keys:manage",
      handler: ({ actor, params }) => tenants.revokeKey(actor, param(params, "id")),
    }),
    adminRoute({
      method: "post",
      path: "/keys/{id}/rotate",
      summary: "Rotate a key: a new key now, the old one keeps working for overlapSeconds",
      permission: "keys:manage",
      body: rotateKeyBody,
      status: 201,
      handler: async ({ actor, params, body }) => {
        const rotated = await tenants.rotateKey(actor, param(params, "id"), body.overlapSeconds);
        return {
          ...rotated.record,
          key: rotated.key,
          tenant: rotated.tenant.name,
          previousKeyExpiresAt: rotated.previousKeyExpiresAt,
        };
      },
    }),
    adminRoute({
      method: "patch",
      path: "/keys/{id}",
      summary: "Change a key's name or limits",
      permission: "keys:manage",
      body: updateKeyBody,
      handler: ({ actor, params, body }) => tenants.updateKey(actor, param(params, "id"), body),
    }),
    adminRoute({
      method: "post",
      path: "/tenants/{tenant}/users",
      summary: "Add a user with a role",
      permission: "users:manage",
      body: createUserBody,
      status: 201,
      handler: ({ actor, params, body }) =>
        tenants.createUser(actor, param(params, "tenant"), { email: body.email, role: body.role as Role }),
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/users",
      summary: "List a tenant's users",
      permission: "users:read",
      handler: async ({ actor, params }) => ({ data: await tenants.listUsers(actor, param(params, "tenant")) }),
    }),
    adminRoute({
      method: "patch",
      path: "/tenants/{tenant}/users/{user}",
      summary: "Change a user's role, or disable them",
      permission: "users:manage",
      body: updateUserBody,
      handler: ({ actor, params, body }) =>
        tenants.updateUser(actor, param(params, "tenant"), param(params, "user"), {
          ...(body.role ? { role: body.role as Role } : {}),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        }),
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/requests",
      summary:
        "Search the request log (query: from, to, endpoint, status, limit, cursor; payloads=plaintext decrypts stored prompts and answers, owner/admin), newest first; audited as an export",
      permission: "requests:read",
      handler: async ({ actor, params, query }) => {
        const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
        authorize(actor, "requests:read", tenant.id);
        if (!deps.requestLog)
          throw new ModelportError("MP_UNSUPPORTED", "the request log is switched off (requestLog.enabled)");
        const payloads = query.payloads;
        if (payloads !== undefined && payloads !== "plaintext")
          throw new ModelportError("MP_INVALID_REQUEST", "payloads must be 'plaintext' when given", {
            param: "payloads",
          });
        if (payloads === "plaintext") authorizePlaintextPayloads(actor, tenant.id);
        return deps.requestLog.search(
          {
            tenantId: tenant.id,
            endpoint: query.endpoint,
            status: optionalInteger(query, "status"),
            from: optionalTime(query, "from"),
            to: optionalTime(query, "to"),
            limit: optionalInteger(query, "limit"),
            cursor: query.cursor,
            ...(payloads === undefined ? {} : { payloads }),
          },
          auditActor(actor),
        );
      },
    }),
    adminRoute({
      method: "post",
      path: "/tenants/{tenant}/end-users/erase",
      summary: "Erase every request-log record of one end user (a data-subject request)",
      permission: "requests:erase",
      body: eraseEndUserBody,
      handler: async ({ actor, params, body }) => {
        const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
        authorize(actor, "requests:erase", tenant.id);
        if (!deps.requestLog)
          throw new ModelportError("MP_UNSUPPORTED", "the request log is switched off (requestLog.enabled)");
        return { erased: await deps.requestLog.eraseEndUser(tenant.id, body.user, auditActor(actor)) };
      },
    }),
    adminRoute({
      method: "post",
      path: "/tenants/{tenant}/webhooks",
      summary: "Add a webhook for the tenant's alerts; the signing secret is in this response only",
      permission: "webhooks:manage",
      body: createWebhookBody,
      status: 201,
      handler: async ({ actor, params, body }) => {
        const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
        authorize(actor, "webhooks:manage", tenant.id);
        if (!deps.alerting) throw new ModelportError("MP_UNSUPPORTED", "alerting is not available");
        return deps.alerting.createWebhook(tenant.id, body.url);
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/webhooks",
      summary: "List the tenant's webhooks",
      permission: "webhooks:manage",
      handler: async ({ actor, params }) => {
        const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
        authorize(actor, "webhooks:manage", tenant.id);
        if (!deps.alerting) throw new ModelportError("MP_UNSUPPORTED", "alerting is not available");
        return { data: await deps.alerting.listWebhooks(tenant.id) };
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/alerts",
      summary: "The tenant's alerts, newest first, with their delivery state",
      permission: "alerts:read",
      handler: async ({ actor, params }) => {
        const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
        authorize(actor, "alerts:read", tenant.id);
        if (!deps.alerting) throw new ModelportError("MP_UNSUPPORTED", "alerting is not available");
        return { data: await deps.alerting.listAlerts(tenant.id) };
      },
    }),
    adminRoute({
      method: "get",
      path: "/audit",
      summary: "List audit entries (query: tenant, action, actor, from, to, limit, cursor); tenants see their own",
      permission: "audit:read",
      handler: async ({ actor, query }) => {
        if (!deps.audit) throw new ModelportError("MP_UNSUPPORTED", "the audit trail is not available");
        // A tenant actor always reads its own tenant's entries, whatever the query says.
        const tenantId = actor.kind === "tenant" ? actor.tenantId : query.tenant;
        return deps.audit.list({
          tenantId,
          action: query.action,
          actor: query.actor,
          from: optionalTime(query, "from"),
          to: optionalTime(query, "to"),
          limit: optionalInteger(query, "limit"),
          cursor: query.cursor,
        });
      },
    }),
    adminRoute({
      method: "get",
      path: "/audit/verify",
      summary: "Verify the audit chain and its signed checkpoints (operator only)",
      permission: "audit:verify",
      handler: async () => {
        if (!deps.audit) throw new ModelportError("MP_UNSUPPORTED", "the audit trail is not available");
        return deps.audit.verify();
      },
    }),
    adminRoute({
      method: "get",
      path: "/endpoints",
      summary: "Endpoints, targets, readiness and breaker states",
      permission: "endpoints:read",
      handler: async ({ actor }) => {
        authorize(actor, "endpoints:read");
        return {
          data: endpoints.list().map((entry) => ({
            name: entry.name,
            kind: entry.kind,
            targets: [...entry.route.targets, ...entry.route.fallbacks].map((target) => ({
              id: target.id,
              runtime: target.runtime.type,
              weight: target.weight,
              ready: target.runtime.isReady(),
              breaker: router.breakerState(entry.name, target.id),
            })),
          })),
        };
      },
    }),
  ];
}

/** Registers the admin API (/admin/v1); authentication runs before (pipeline.ts). */
export function registerAdminRoutes(app: Hono<GatewayEnv>, deps: AdminDeps): void {
  const base = "/admin/v1";
  const routes = [...adminRoutes(deps), ...(deps.extraRoutes ?? [])];
  const document = buildOpenApiDocument(deps.version, routes);
  app.get(`${base}/openapi.json`, (c) => c.json(document));
  for (const route of routes) {
    app[route.method](`${base}${honoPath(route.path)}`, async (c) => {
      const actor = c.get("actor");
      if (!actor) throw new ModelportError("MP_UNAUTHORIZED", "authentication is required");
      // Role check first, for routes with no tenant in the path; handlers check tenancy.
      authorize(actor, route.permission);
      const body = route.body ? parse(route.body, await readJsonBody(c, 64 * 1024)) : undefined;
      const result = await route.handler({
        actor,
        params: c.req.param() as Record<string, string>,
        body,
        query: c.req.query(),
      });
      if (result instanceof Response) return result;
      return c.json(result as object, route.status ?? 200);
    });
  }
}
