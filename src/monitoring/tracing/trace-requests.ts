import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { GatewayEnv, StreamOutcome } from "../../gateway/context.js";
import type { RequestTracer, ServerTrace } from "./request-trace.js";

/** Probes and scrapes arrive every few seconds and say nothing about traffic: not traced. */
function isProbe(path: string): boolean {
  return path === "/metrics" || path.startsWith("/v2/health");
}

/** The handler's route pattern; undefined when only middleware matched (a 404). */
function matchedRoute(c: Context<GatewayEnv>): string | undefined {
  const route = routePath(c, -1);
  return route.includes("*") ? undefined : route;
}

function end(span: ServerTrace, c: Context<GatewayEnv>, outcome: StreamOutcome | undefined): void {
  const usage = outcome ? outcome.usage : c.get("usage");
  span.end({
    status: c.res.status,
    route: matchedRoute(c),
    requestId: c.get("requestId"),
    endpoint: c.get("endpoint"),
    target: c.get("target"),
    tenantId: c.get("principal")?.tenantId,
    inputTokens: usage?.inputTokens,
    outputTokens: usage?.outputTokens,
    cacheHit: c.get("cacheHit"),
    errorCode: outcome?.errorCode ?? c.get("errorCode"),
  });
}

/**
 * The tracing stage, installed right after request-context and only when tracing is enabled: a
 * server span per request (the caller's traceparent as parent), put on the context as `trace` for
 * the router's attempt spans, ended when the response is complete (for streams: when they end).
 */
export function traceRequests(tracer: RequestTracer): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (isProbe(c.req.path)) return next();
    const span = tracer.startRequest(c.req.method, c.req.path, c.req.raw.headers);
    c.set("trace", span);
    try {
      await next();
    } catch (error) {
      // Only reached without an onError handler (hono turns throws into responses otherwise).
      span.end({ ...emptyOutcome, status: 500, requestId: c.get("requestId"), errorCode: "MP_INTERNAL" });
      throw error;
    }
    const streamDone = c.get("streamDone");
    if (streamDone)
      streamDone.then(
        (outcome) => end(span, c, outcome),
        () => end(span, c, { usage: undefined, errorCode: "MP_INTERNAL" }),
      );
    else end(span, c, undefined);
  };
}

const emptyOutcome = {
  route: undefined,
  endpoint: undefined,
  target: undefined,
  tenantId: undefined,
  inputTokens: undefined,
  outputTokens: undefined,
  cacheHit: undefined,
} as const;
