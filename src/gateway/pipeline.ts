import { Hono } from "hono";
import type { Authenticator } from "../commerce/authenticator.js";
import type { RateLimiter } from "../commerce/limits/limiter.js";
import type { TenantService } from "../commerce/tenant-service.js";
import { ModelportError } from "../core/errors.js";
import type { BudgetPort, MeteringPort } from "../core/metering.js";
import type { GuardProvider, PrivacyFilters } from "../core/privacy.js";
import type { Metrics } from "../monitoring/metrics.js";
import { type RequestTracer, traceRequests } from "../monitoring/tracing/index.js";
import type { AdminRoute } from "./admin/route-table.js";
import { type AlertingAdmin, type AuditAdmin, type RequestLogAdmin, registerAdminRoutes } from "./admin/routes.js";
import type { ResponseCache } from "./cache/index.js";
import type { FinishedRequest, GatewayEnv } from "./context.js";
import type { EndpointRegistry } from "./endpoint-registry.js";
import { errorResponse } from "./http-errors.js";
import { type PredictObserver, registerOipRoutes } from "./protocols/oip-v2/routes.js";
import { type FeedbackPort, registerFeedbackRoute } from "./protocols/openai/feedback.js";
import { registerOpenAIRoutes } from "./protocols/openai/routes.js";
import type { Router } from "./resilience/router.js";
import { authenticate, authenticateAdmin } from "./stages/authenticate.js";
import { type AccessLogger, requestContext } from "./stages/request-context.js";

export interface GatewayDeps {
  version: string;
  endpoints: EndpointRegistry;
  router: Router;
  metrics: Metrics;
  authenticator: Authenticator;
  verifyAdminToken: (token: string | undefined) => boolean;
  tenants: TenantService;
  bodyLimitBytes: number;
  accessLogger: AccessLogger | undefined;
  /** True while SIGTERM drains: new requests get 503 and readiness fails. */
  isDraining: () => boolean;
  /** Called once per inference request when it is over (request log, metering). */
  onFinished?: ((request: FinishedRequest) => void) | undefined;
  requestLog?: RequestLogAdmin | undefined;
  audit?: AuditAdmin | undefined;
  alerting?: AlertingAdmin | undefined;
  extraRoutes?: readonly AdminRoute[] | undefined;
  limiter?: RateLimiter | undefined;
  onLimiterError?: (error: unknown) => void;
  privacy?: PrivacyFilters | undefined;
  capturePayloads?: boolean | undefined;
  guards?: GuardProvider | undefined;
  feedback?: FeedbackPort | undefined;
  metering?: MeteringPort | undefined;
  budgets?: BudgetPort | undefined;
  onMeteringError?: (error: unknown) => void;
  /** Drift windows (monitoring/drift-watch): sees every successful OIP v2 prediction. */
  drift?: PredictObserver | undefined;
  onPredictObserverError?: ((error: unknown) => void) | undefined;
  /** Opt-in per endpoint: answers of non-streamed chat completions and embeddings (gateway/cache). */
  responseCache?: ResponseCache | undefined;
  /** Set only when tracing is enabled: a server span per request, attempt spans under it. */
  tracing?: RequestTracer | undefined;
}

/**
 * The gateway, its stages in order. Every request: request-context (id, timing, metrics, access
 * log) → drain check → auth (tenant key, or admin token for /admin and /metrics) → protocol
 * handler, which routes (canary, sticky, fallbacks, retries, breakers, shadows) and invokes the
 * runtime. Commerce (limits, metering) and protection (guards, PII) slot in as stages after auth.
 */
export function createGatewayApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  app.use(
    "*",
    requestContext({
      metrics: deps.metrics,
      logger: deps.accessLogger,
      ...(deps.onFinished ? { onFinished: deps.onFinished } : {}),
    }),
  );
  // Not installed at all when tracing is off: the hot path pays nothing for it.
  if (deps.tracing) app.use("*", traceRequests(deps.tracing));
  app.use("*", async (c, next) => {
    if (deps.isDraining() && !c.req.path.startsWith("/v2/health")) {
      c.header("connection", "close");
      return errorResponse(
        c,
        new ModelportError("MP_SHUTTING_DOWN", "the server is shutting down; retry on another node"),
      );
    }
    await next();
  });

  const tenantAuth = authenticate(deps.authenticator);
  app.use("/v1/*", tenantAuth);
  app.use("/v2/models/*", tenantAuth);
  const adminAuth = authenticateAdmin(deps.verifyAdminToken, deps.authenticator);
  app.use("/admin/*", async (c, next) => (c.req.path === "/admin/v1/openapi.json" ? next() : adminAuth(c, next)));
  app.use("/metrics", authenticateAdmin(deps.verifyAdminToken, deps.authenticator, { operatorOnly: true }));

  registerOpenAIRoutes(app, deps);
  registerFeedbackRoute(app, deps.feedback);
  registerOipRoutes(app, {
    ...deps,
    isReady: () => !deps.isDraining(),
  });
  registerAdminRoutes(app, { ...deps, onTenantChanged: (tenantId) => deps.authenticator.forgetTenant(tenantId) });
  app.get("/metrics", async (c) => {
    const { contentType, body } = await deps.metrics.render();
    return c.body(body, 200, { "content-type": contentType });
  });
  app.get("/", (c) => c.json({ name: "modelport", version: deps.version }));

  app.notFound((c) =>
    errorResponse(c, new ModelportError("MP_NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((error, c) => errorResponse(c, error));
  return app;
}
