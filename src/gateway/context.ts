import type { Principal } from "../commerce/authenticator.js";
import type { Actor } from "../commerce/rbac.js";

/** What stages put on a request's context for later stages (hono `c.var`). */
export interface GatewayVariables {
  requestId: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Milliseconds spent waiting on the model (to first chunk for streams); the rest is overhead. */
  upstreamMs: number;
  /** `openai`, `oip` or `admin`: which error shape and metric label apply. */
  protocol: "openai" | "oip" | "admin" | "other";
  principal?: Principal;
  /** Who acts on the admin API: the operator (admin token) or a tenant role. */
  actor?: Actor;
  endpoint?: string;
  target?: string;
}

export interface GatewayEnv {
  Variables: GatewayVariables;
}
