import type { AuthenticationResult, Authenticator } from "./authenticator.js";

/**
 * For bench/gateway-overhead only (startServer's `withoutCommerceStages` option; no config key or
 * flag reaches it): the same gateway with authentication, rate limits, budgets and metering
 * taken out, so the benchmark can measure what those stages cost in one run against one upstream.
 *
 * Authentication shrinks to identifying the caller: the first request with a key is
 * authenticated for real, later ones reuse that principal from a Map (no keyed hash, no expiry,
 * revocation or user check), so the request and access logs still see the tenant as before.
 * Never use this to serve traffic: revoked keys keep working.
 */
export function withoutCommerceStages(authenticator: Authenticator) {
  const known = new Map<string, AuthenticationResult>();
  const identifyOnly: Authenticator = {
    async authenticate(presented) {
      const seen = presented === undefined ? undefined : known.get(presented);
      if (seen !== undefined) return seen;
      const result = await authenticator.authenticate(presented);
      if (presented !== undefined && result.ok) known.set(presented, result);
      return result;
    },
    forget: (keyId) => authenticator.forget(keyId),
    forgetTenant: (tenantId) => authenticator.forgetTenant(tenantId),
  };
  return { authenticator: identifyOnly, limiter: undefined, metering: undefined, budgets: undefined };
}
