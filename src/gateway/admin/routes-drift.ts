import { z } from "zod";
import { ModelportError } from "../../core/errors.js";
import type { EndpointRegistry } from "../endpoint-registry.js";
import { type AdminRoute, adminRoute } from "./route-table.js";

/** What the drift routes need of the drift watch (monitoring/drift-watch). */
export interface DriftAdmin {
  windows(endpoint: string): Promise<unknown[]>;
  reports(endpoint: string, limit?: number): Promise<unknown[]>;
  check(endpoint: string, options: { rotate?: boolean }): Promise<unknown[]>;
}

const checkBody = z.strictObject({
  rotate: z
    .boolean()
    .optional()
    .describe("After checking, close the endpoint's windows and start new ones (e.g. after a known change)."),
});

function endpointOf(endpoints: Pick<EndpointRegistry, "get">, params: Record<string, string>): string {
  const name = params.endpoint ?? "";
  if (endpoints.get(name) === undefined)
    throw new ModelportError("MP_NOT_FOUND", `no endpoint '${name}'`, { param: "endpoint" });
  return name;
}

function limitOf(query: Record<string, string>): number {
  const value = query.limit;
  if (value === undefined) return 20;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 200)
    throw new ModelportError("MP_INVALID_REQUEST", "limit must be an integer from 1 to 200", { param: "limit" });
  return Number(value);
}

/**
 * Drift of an endpoint's live traffic against the reference profiles of the versions serving it.
 * Operator-only (drift:read, drift:check): endpoints are shared and a window mixes every tenant's
 * requests.
 */
export function driftAdminRoutes(deps: { drift: DriftAdmin; endpoints: Pick<EndpointRegistry, "get"> }): AdminRoute[] {
  return [
    adminRoute({
      method: "get",
      path: "/endpoints/{endpoint}/drift",
      summary:
        "An endpoint's open drift windows (per model version) and its latest drift reports, newest first (query: limit, default 20)",
      permission: "drift:read",
      handler: async ({ params, query }) => {
        const endpoint = endpointOf(deps.endpoints, params);
        const limit = limitOf(query);
        return {
          endpoint,
          windows: await deps.drift.windows(endpoint),
          reports: await deps.drift.reports(endpoint, limit),
        };
      },
    }),
    adminRoute({
      method: "post",
      path: "/endpoints/{endpoint}/drift/check",
      summary:
        "Check an endpoint's drift windows now: each with enough rows is compared with its version's reference profile, the report stored, and a drift-detected alert fired on dataset drift",
      permission: "drift:check",
      body: checkBody,
      handler: async ({ params, body }) => {
        const endpoint = endpointOf(deps.endpoints, params);
        return {
          endpoint,
          results: await deps.drift.check(endpoint, body.rotate === undefined ? {} : { rotate: body.rotate }),
        };
      },
    }),
  ];
}
