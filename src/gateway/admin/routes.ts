import type { Hono } from "hono";
import type { z } from "zod";
import type { TenantService } from "../../commerce/tenant-service.js";
import { ModelportError } from "../../core/errors.js";
import type { GatewayEnv } from "../context.js";
import type { EndpointRegistry } from "../endpoint-registry.js";
import type { Router } from "../resilience/router.js";
import { readJsonBody } from "../stages/json-body.js";
import { buildOpenApiDocument } from "./openapi.js";
import { createKeyBody, createTenantBody } from "./schemas.js";

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

/** The admin API (/admin/v1), guarded by the admin token. */
export function registerAdminRoutes(
  app: Hono<GatewayEnv>,
  deps: { tenants: TenantService; endpoints: EndpointRegistry; router: Router; version: string },
): void {
  const { tenants, endpoints, router } = deps;
  const base = "/admin/v1";

  app.get(`${base}/openapi.json`, (c) => c.json(buildOpenApiDocument(deps.version)));

  app.post(`${base}/tenants`, async (c) => {
    const { name } = parse(createTenantBody, await readJsonBody(c, 64 * 1024));
    return c.json(await tenants.createTenant(name), 201);
  });
  app.get(`${base}/tenants`, async (c) => c.json({ data: await tenants.listTenants() }));
  app.get(`${base}/tenants/:tenant`, async (c) => c.json(await tenants.resolveTenant(c.req.param("tenant"))));

  app.post(`${base}/tenants/:tenant/keys`, async (c) => {
    const input = parse(createKeyBody, await readJsonBody(c, 64 * 1024));
    const created = await tenants.createKey(c.req.param("tenant"), input);
    return c.json({ ...created.record, key: created.key, tenant: created.tenant.name }, 201);
  });
  app.get(`${base}/tenants/:tenant/keys`, async (c) => c.json({ data: await tenants.listKeys(c.req.param("tenant")) }));
  app.post(`${base}/keys/:id/revoke`, async (c) => c.json(await tenants.revokeKey(c.req.param("id"))));

  app.get(`${base}/endpoints`, (c) =>
    c.json({
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
    }),
  );
}
