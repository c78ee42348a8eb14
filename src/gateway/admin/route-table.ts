import type { z } from "zod";
import type { Actor, Permission } from "../../commerce/rbac.js";

/** What a handler receives: the acting principal, path parameters and the validated body. */
export interface AdminRequest<Body> {
  actor: Actor;
  params: Record<string, string>;
  body: Body;
  query: Record<string, string>;
}

/**
 * One admin route: the table drives registration (routes.ts), authorization (every route names
 * its permission) and the OpenAPI document (openapi.ts), so none of them can drift apart.
 */
export interface AdminRoute<Body = unknown> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI-style path under /admin/v1, e.g. `/tenants/{tenant}/keys`. */
  path: string;
  summary: string;
  permission: Permission;
  body?: z.ZodType<Body>;
  status?: 200 | 201;
  /**
   * A JSON-serializable result, or a `Response` passed through as is (CSV exports, SSE streams);
   * `produces` names its media type for the OpenAPI document.
   */
  handler: (request: AdminRequest<Body>) => Promise<unknown>;
  produces?: string;
}

export function adminRoute<Body>(route: AdminRoute<Body>): AdminRoute<unknown> {
  return route as AdminRoute<unknown>;
}

/** `/tenants/{tenant}` → `/tenants/:tenant` for hono. */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ":$1");
}
