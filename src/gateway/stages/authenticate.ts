import type { MiddlewareHandler } from "hono";
import type { AuthenticationResult, Authenticator } from "../../commerce/authenticator.js";
import { type Actor, operator } from "../../commerce/rbac.js";
import { ModelportError } from "../../core/errors.js";
import type { GatewayEnv } from "../context.js";
import { errorResponse } from "../http-errors.js";

const messages: Record<Extract<AuthenticationResult, { ok: false }>["reason"], string> = {
  missing: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
  malformed: "Incorrect API key provided: it is not a Modelport key.",
  unknown: "Incorrect API key provided.",
  revoked: "This API key has been revoked.",
  expired: "This API key has expired.",
  disabled: "The user this API key belongs to has been disabled.",
};

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Tenant-key authentication for inference routes; puts the principal on the context. */
export function authenticate(authenticator: Authenticator): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const result = await authenticator.authenticate(bearerToken(c.req.header("authorization")));
    if (!result.ok) return errorResponse(c, new ModelportError("MP_UNAUTHORIZED", messages[result.reason]));
    if (!result.principal.scopes.includes("inference"))
      return errorResponse(
        c,
        new ModelportError("MP_FORBIDDEN", "this API key is not allowed to call inference routes"),
      );
    c.set("principal", result.principal);
    await next();
  };
}

/**
 * Admin API authentication: the admin token acts as the operator; a tenant key with the `admin`
 * scope acts within its tenant with its role. `operatorOnly` routes (/metrics) take the token only.
 */
export function authenticateAdmin(
  verifyAdminToken: (token: string | undefined) => boolean,
  authenticator: Authenticator,
  options: { operatorOnly?: boolean } = {},
): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (verifyAdminToken(token)) {
      c.set("actor", operator);
      return next();
    }
    const unauthorized = "a valid admin token or admin-scoped API key is required ('Authorization: Bearer ...')";
    if (options.operatorOnly || !token)
      return errorResponse(
        c,
        new ModelportError("MP_UNAUTHORIZED", options.operatorOnly ? "a valid admin token is required" : unauthorized),
      );
    const result = await authenticator.authenticate(token);
    if (!result.ok)
      return errorResponse(c, new ModelportError("MP_UNAUTHORIZED", `${messages[result.reason]} ${unauthorized}`));
    const { principal } = result;
    if (!principal.scopes.includes("admin") || principal.role === null)
      return errorResponse(c, new ModelportError("MP_FORBIDDEN", "this API key has no admin scope"));
    const actor: Actor = { kind: "tenant", tenantId: principal.tenantId, role: principal.role, keyId: principal.keyId };
    c.set("principal", principal);
    c.set("actor", actor);
    await next();
  };
}
