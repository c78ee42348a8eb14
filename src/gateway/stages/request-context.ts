import type { MiddlewareHandler } from "hono";
import { randomId } from "../../core/ids.js";
import type { Metrics } from "../../monitoring/metrics.js";
import type { FinishedRequest, GatewayEnv, GatewayVariables, StreamOutcome } from "../context.js";

export interface AccessLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

const acceptedRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

function protocolOf(path: string): GatewayVariables["protocol"] {
  if (path.startsWith("/v1/")) return "openai";
  if (path.startsWith("/v2")) return "oip";
  if (path.startsWith("/admin/")) return "admin";
  return "other";
}

/**
 * The first stage: assigns the request id (a caller's well-formed x-request-id is kept, so traces
 * join up), starts the clock, and on the way out sets x-request-id and x-modelport-overhead-ms,
 * records metrics and writes one access-log line. It never logs bodies, headers or keys.
 */
export function requestContext(options: {
  metrics: Metrics;
  logger: AccessLogger | undefined;
  /** Called once per request when it is over (for streams: when the stream ends). Must not throw. */
  onFinished?: (request: FinishedRequest) => void;
}): MiddlewareHandler<GatewayEnv> {
  const { metrics, logger, onFinished } = options;
  return async (c, next) => {
    const startedAt = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && acceptedRequestId.test(incoming) ? incoming : randomId("req");
    c.set("requestId", requestId);
    c.set("startedAt", startedAt);
    c.set("upstreamMs", 0);
    c.set("protocol", protocolOf(c.req.path));
    const time = new Date().toISOString();
    await next();
    const elapsedMs = performance.now() - startedAt;
    const overheadMs = Math.max(0, elapsedMs - c.var.upstreamMs);
    c.res.headers.set("x-request-id", requestId);
    c.res.headers.set("x-modelport-overhead-ms", overheadMs.toFixed(3));
    const protocol = c.var.protocol;
    if (protocol === "openai" || protocol === "oip") {
      const endpoint = c.var.endpoint ?? "";
      metrics.requests.labels(protocol, endpoint, String(c.res.status)).inc();
      metrics.requestDuration.labels(protocol, endpoint).observe(elapsedMs / 1000);
      metrics.overhead.labels(protocol).observe(overheadMs / 1000);
    }
    logger?.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(elapsedMs * 1000) / 1000,
        overheadMs: Math.round(overheadMs * 1000) / 1000,
        tenantId: c.var.principal?.tenantId,
        keyId: c.var.principal?.keyId,
        endpoint: c.var.endpoint,
        target: c.var.target,
      },
      "request",
    );
    if (onFinished && (protocol === "openai" || protocol === "oip")) {
      const finished = (outcome: StreamOutcome | undefined) =>
        onFinished({
          requestId,
          time,
          protocol,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          latencyUs: (performance.now() - startedAt) * 1000,
          overheadUs: overheadMs * 1000,
          principal: c.var.principal,
          endpoint: c.var.endpoint,
          target: c.var.target,
          endUser: c.var.endUser,
          usage: outcome ? outcome.usage : c.var.usage,
          errorCode: outcome?.errorCode ?? c.var.errorCode,
          stream: outcome !== undefined,
        });
      const streamDone = c.var.streamDone;
      if (streamDone) streamDone.then(finished, () => finished({ usage: undefined, errorCode: "MP_INTERNAL" }));
      else finished(undefined);
    }
  };
}
