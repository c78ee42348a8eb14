import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../../commerce/authenticator.js";
import { ModelportError } from "../../core/errors.js";
import type { GatewayEnv } from "../context.js";
import { errorResponse } from "../http-errors.js";

const messages = {
  missing: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
  malformed: "Incorrect API key provided: it is not a Modelport key.",
  unknown: "Incorrect API key provided.",
  revoked: "This API key has been revoked.",
  expired: "This API key has expired.",
} as const;

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
    c.set("principal", result.principal);
    await next();
  };
}

/** Admin-token authentication for /admin and /metrics. */
export function authenticateAdmin(verify: (token: string | undefined) => boolean): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (!verify(bearerToken(c.req.header("authorization"))))
      return errorResponse(
        c,
        new ModelportError(
          "MP_UNAUTHORIZED",
          "a valid admin token is required ('Authorization: Bearer <admin token>')",
        ),
      );
    await next();
  };
}
