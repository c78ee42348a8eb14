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
  // prom-client hashes label values on every labels() call; keep the bound children instead.
  const children = new Map<
    string,
    {
      requests: { inc(): void };
      duration: { observe(value: number): void };
      overhead: { observe(value: number): void };
    }
  >();
  const bound = (protocol: string, endpoint: string, status: number) => {
    const key = `${protocol}\u0000${endpoint}\u0000${status}`;
    let child = children.get(key);
    if (!child) {
      child = {
        requests: metrics.requests.labels(protocol, endpoint, String(status)),
        duration: metrics.requestDuration.labels(protocol, endpoint),
        overhead: metrics.overhead.labels(protocol),
      };
      children.set(key, child);
    }
    return child;
  };
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
    const overheadMs = Math.max(0, elapsedMs - c.get("upstreamMs"));
    c.res.headers.set("x-request-id", requestId);
    c.res.headers.set("x-modelport-overhead-ms", overheadMs.toFixed(3));
    const protocol = c.get("protocol");
    if (protocol === "openai" || protocol === "oip") {
      const child = bound(protocol, c.get("endpoint") ?? "", c.res.status);
      child.requests.inc();
      child.duration.observe(elapsedMs / 1000);
      child.overhead.observe(overheadMs / 1000);
    }
    logger?.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round(elapsedMs * 1000) / 1000,
        overheadMs: Math.round(overheadMs * 1000) / 1000,
        tenantId: c.get("principal")?.tenantId,
        keyId: c.get("principal")?.keyId,
        endpoint: c.get("endpoint"),
        target: c.get("target"),
      },
      "request",
    );
    const admission = c.get("admission");
    if (admission || c.get("budget") || (onFinished && (protocol === "openai" || protocol === "oip"))) {
      const finished = (outcome: StreamOutcome | undefined) => {
        const usage = outcome ? outcome.usage : c.get("usage");
        const errorCode = outcome?.errorCode ?? c.get("errorCode");
        const costMicros = outcome ? outcome.costMicros : c.get("costMicros");
        admission?.finish(usage, c.res.status < 400 && errorCode === undefined);
        c.get("budget")?.settle(costMicros ?? 0);
        onFinished?.({
          requestId,
          time,
          protocol,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          latencyUs: (performance.now() - startedAt) * 1000,
          overheadUs: overheadMs * 1000,
          principal: c.get("principal"),
          endpoint: c.get("endpoint"),
          target: c.get("target"),
          endUser: c.get("endUser"),
          usage,
          errorCode,
          stream: outcome !== undefined,
          promptLogText: c.get("promptLogText"),
          answerLogText: outcome ? outcome.answerLogText : c.get("answerLogText"),
          piiFound: c.get("piiFound"),
          predictedLabel: c.get("predictedLabel"),
          modelVersion: c.get("modelVersion"),
          costMicros,
          guardFindings: c.get("guardFindings"),
          cacheHit: c.get("cacheHit"),
        });
      };
      const streamDone = c.get("streamDone");
      if (streamDone) streamDone.then(finished, () => finished({ usage: undefined, errorCode: "MP_INTERNAL" }));
      else finished(undefined);
    }
  };
}
