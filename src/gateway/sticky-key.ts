import type { Context } from "hono";
import type { GatewayEnv } from "./context.js";
import type { EndpointEntry } from "./endpoint-registry.js";

/**
 * The key that pins a caller to one target under an endpoint's `sticky` policy: the end user
 * (OpenAI's `user` field, else the x-modelport-user header), the tenant, or the API key.
 */
export function stickyKeyFor(
  c: Context<GatewayEnv>,
  endpoint: EndpointEntry,
  user: string | undefined,
): string | undefined {
  switch (endpoint.config.sticky) {
    case "user":
      return user ?? c.req.header("x-modelport-user") ?? c.get("principal")?.tenantId;
    case "tenant":
      return c.get("principal")?.tenantId;
    case "key":
      return c.get("principal")?.keyId;
    default:
      return undefined;
  }
}
