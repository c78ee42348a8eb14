import { authorize } from "../../commerce/rbac.js";
import type { TenantService } from "../../commerce/tenant-service.js";
import { ModelportError } from "../../core/errors.js";
import { optionalTime, requiredString } from "./query-params.js";
import { type AdminRoute, adminRoute } from "./route-table.js";

/** What the quality routes need of the feedback store (monitoring/feedback), tenant-scoped by the caller. */
export interface QualityAdmin {
  liveQuality(query: {
    tenantId: string;
    endpoint: string;
    version?: string | undefined;
    target?: string | undefined;
    window: { from: string; to: string };
  }): Promise<unknown>;
}

const DAY_MS = 86_400_000;

/** Live model quality from feedback labels: accuracy and macro F1 per endpoint, version and window. */
export function monitoringAdminRoutes(deps: {
  tenants: TenantService;
  quality: QualityAdmin;
  now?: () => number;
}): AdminRoute[] {
  const now = deps.now ?? Date.now;
  return [
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/quality",
      summary:
        "Live quality of an endpoint from the tenant's feedback (query: endpoint, version, target, from, to; default the last 24 h): accuracy, macro F1, thumbs, scores",
      permission: "requests:read",
      handler: async ({ actor, params, query }) => {
        const tenant = await deps.tenants.resolveTenant(actor, params.tenant ?? "");
        authorize(actor, "requests:read", tenant.id);
        const to = optionalTime(query, "to") ?? new Date(now()).toISOString();
        const from = optionalTime(query, "from") ?? new Date(Date.parse(to) - DAY_MS).toISOString();
        if (Date.parse(from) >= Date.parse(to))
          throw new ModelportError("MP_INVALID_REQUEST", "from must be before to", { param: "from" });
        return deps.quality.liveQuality({
          tenantId: tenant.id,
          endpoint: requiredString(query, "endpoint"),
          version: query.version,
          target: query.target,
          window: { from, to },
        });
      },
    }),
  ];
}
