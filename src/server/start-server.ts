import type { Server } from "node:http";
import { dirname } from "node:path";
import { serve } from "@hono/node-server";
import { createAuthenticator } from "../commerce/authenticator.js";
import { withoutCommerceStages } from "../commerce/benchmark-bypass.js";
import { createMemoryLimiter, createRedisLimiter } from "../commerce/limits/index.js";
import { createTenantService } from "../commerce/tenant-service.js";
import type { Settings } from "../config/settings.js";
import type { AuditRecorder } from "../core/audit.js";
import { type Clock, systemClock } from "../core/clock.js";
import { ModelportError } from "../core/errors.js";
import type { ModelRuntime } from "../core/runtime.js";
import { commerceAdminRoutes, exportAuditRecorder, planAuditRecorder } from "../gateway/admin/routes-commerce.js";
import { monitoringAdminRoutes } from "../gateway/admin/routes-monitoring.js";
import { openResponseCache } from "../gateway/cache/index.js";
import { createEndpointRegistry } from "../gateway/endpoint-registry.js";
import { createGatewayApp } from "../gateway/pipeline.js";
import { createMetrics } from "../monitoring/metrics.js";
import { createRequestLogRepository } from "../monitoring/request-log/repository.js";
import { scheduleRetention } from "../monitoring/request-log/retention.js";
import { createRequestLogWriter } from "../monitoring/request-log/writer.js";
import { resolveTracingSettings, startTracing } from "../monitoring/tracing/index.js";
import { isAuditAction } from "../privacy/audit/audit-actions.js";
import { type AuditLog, createAuditLog } from "../privacy/audit/audit-log.js";
import { createFieldCipher } from "../privacy/crypto/field-cipher.js";
import { createRegistryRuntime } from "../runtimes/registry/index.js";
import { createModelRegistry } from "../training/registry/index.js";
import { bootstrapAdminToken } from "./admin-token.js";
import { startCommerce } from "./commerce-wiring.js";
import { auditConfigChange } from "./config-audit.js";
import { startDriftWatch } from "./drift-wiring.js";
import { createLogger, type Logger } from "./logger.js";
import { deriveKey } from "./master-key.js";
import { startMonitoring } from "./monitoring-wiring.js";
import { openCheckedStorage } from "./open-storage.js";
import { createGuardProvider, createPrivacyFilters } from "./privacy-wiring.js";
import { createRequestLogAdmin, createRequestLogRecorder } from "./request-log-wiring.js";
import { recordRequestMetrics } from "./request-metrics.js";
import { createGatewayRouter } from "./router-wiring.js";
import { createRuntime } from "./runtime-factory.js";
import { parseTrainingRequest, startTraining } from "./training-wiring.js";
import { modelportVersion } from "./version.js";

export interface RunningServer {
  url: string;
  port: number;
  /** Present only on the very first start without MODELPORT_ADMIN_TOKEN: print it once. */
  generatedAdminToken: string | undefined;
  logger: Logger;
  /** Stops accepting, drains in-flight requests (streams included), flushes, closes. */
  shutdown(reason: string): Promise<void>;
}

/** The audit port for feature modules: checks each action name against the trail's list. */
function auditRecorder(audit: AuditLog): AuditRecorder {
  return {
    record(event) {
      if (!isAuditAction(event.action))
        return Promise.reject(new ModelportError("MP_INTERNAL", `unknown audit action '${event.action}'`));
      return audit.record({ ...event, action: event.action });
    },
  };
}

export interface StartServerOptions {
  clock?: Clock;
  /** bench/gateway-overhead only (commerce/benchmark-bypass.ts): no auth, limits, budgets or metering. */
  withoutCommerceStages?: boolean;
}

/**
 * The composition root: config → storage, runtimes, router → gateway app → HTTP server. A start
 * that fails half-way (a config error found late, a port in use) closes what it had opened, in
 * reverse order, so an embedding process or a test is not left with open databases and timers.
 */
export async function startServer(settings: Settings, options: StartServerOptions = {}): Promise<RunningServer> {
  const opened: (() => unknown)[] = [];
  try {
    return await composeServer(settings, options, opened);
  } catch (error) {
    for (const close of opened.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
    throw error;
  }
}

async function composeServer(
  settings: Settings,
  options: StartServerOptions,
  opened: (() => unknown)[],
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const { config } = settings;
  const logger = createLogger(config.logging.level);
  const { storage, handle, masterKey } = await openCheckedStorage(settings);
  opened.push(() => storage.close());
  const hashingKey = deriveKey(masterKey, "api-key-hashing");
  const admin = await bootstrapAdminToken({ storage, hashingKey, configuredToken: settings.adminToken });

  const baseDir = settings.configPath ? dirname(settings.configPath) : process.cwd();
  const runtimes = new Map<string, ModelRuntime>();
  for (const [name, provider] of Object.entries(config.providers))
    runtimes.set(name, await createRuntime(provider, baseDir));
  opened.push(() => Promise.allSettled([...runtimes.values()].map((runtime) => runtime.close())));

  const audit = createAuditLog({
    database: handle,
    masterKey,
    dataDir: settings.dataDir,
    clock,
    checkpointEvery: 1000,
  });
  const recorder = auditRecorder(audit);
  const onAuditError = (error: unknown) =>
    logger.error({ err: { message: (error as Error).message } }, "audit trail write failed");
  const registry = createModelRegistry({
    db: handle.db,
    dialect: handle.dialect,
    dataDir: settings.dataDir,
    clock,
    audit: recorder,
    onAuditError,
  });
  // One runtime per registry:NAME@ALIAS, shared by every target that names it.
  const registryRuntimes = new Map<string, ModelRuntime>();
  const registryRuntime = (name: string, alias: string) => {
    const key = `${name}@${alias}`;
    let runtime = registryRuntimes.get(key);
    if (!runtime) {
      runtime = createRegistryRuntime({
        registry,
        name,
        alias,
        onError: (error) =>
          logger.warn({ model: key, err: { message: (error as Error).message } }, "model roll-over failed"),
      });
      registryRuntimes.set(key, runtime);
    }
    return runtime;
  };

  const metrics = createMetrics({ collectProcessMetrics: true });
  // The training job queue with its worker in this process (BullMQ when MODELPORT_REDIS_URL is set).
  const training = await startTraining({
    handle,
    storage,
    dataDir: settings.dataDir,
    redisUrl: settings.redisUrl,
    config: config.training,
    registry: metrics.registry,
    logger,
    clock,
  });
  opened.push(() => training.close());
  const endpoints = createEndpointRegistry(config, runtimes, registryRuntime);
  const router = createGatewayRouter({ metrics, logger, clock });
  opened.push(() => router.close());
  const authenticator = createAuthenticator({
    storage,
    hashingKey,
    clock,
    cacheTtlMs: config.auth.keyCacheTtlMs,
    onError: (error) => logger.warn({ err: error }, "could not record key use"),
  });
  const cipher = createFieldCipher({ database: handle, masterKey, audit, clock });
  const tenants = createTenantService({
    storage,
    hashingKey,
    clock,
    onKeyChanged: (id) => authenticator.forget(id),
    audit: recorder,
    onAuditError,
  });
  await auditConfigChange({
    storage,
    audit: recorder,
    config,
    source: settings.configPath ?? "(defaults)",
  }).catch(onAuditError);
  const monitoring = startMonitoring({
    db: handle.db,
    config,
    clock,
    logger,
    endpoints,
    webhookSecretKey: deriveKey(masterKey, "webhook-signing"),
    requestTraining: (request) => training.enqueue(request),
    validateTraining: parseTrainingRequest,
  });
  opened.push(() => monitoring.stop());
  const drift = startDriftWatch({
    db: handle.db,
    config,
    clock,
    logger,
    registry,
    alerts: monitoring.alerts,
    endpoints,
    metricsRegistry: metrics.registry,
  });
  opened.push(() => drift.stop());
  monitoring.setDriftSource(drift.ruleSource);
  const commerce = await startCommerce({
    handle,
    config,
    dataDir: settings.dataDir,
    clock,
    logger,
    alerts: monitoring.alerts,
  });
  opened.push(() => commerce.stop());

  const requestLogRepository = createRequestLogRepository(handle.db, { sqliteConnection: handle.sqliteConnection });
  const requestLog = config.requestLog.enabled
    ? createRequestLogWriter({
        repository: requestLogRepository,
        onError: (error) =>
          logger.warn({ err: { message: (error as Error).message } }, "request log write failed; retrying"),
        onDropped: (count) => logger.error({ count }, "request log queue overflowed; oldest entries dropped"),
      })
    : undefined;
  metrics.watchQueue("ledger", () => commerce.ledger.stats().journalPending);
  if (requestLog) metrics.watchQueue("request-log", () => requestLog.queued);
  metrics.watchQueue("predictions", () => monitoring.pendingPredictions());
  const stopRetention = config.requestLog.enabled
    ? scheduleRetention({
        repository: requestLogRepository,
        retentionDays: config.requestLog.retentionDays,
        onDeleted: (count) => logger.info({ count }, "request log retention deleted old entries"),
        onError: (error) => logger.warn({ err: { message: (error as Error).message } }, "request log retention failed"),
      })
    : () => {};
  opened.push(() => requestLog?.close(), stopRetention);
  const endUserKey = deriveKey(masterKey, "end-user-hashing");
  const requestLogRecorder = requestLog
    ? createRequestLogRecorder({
        writer: requestLog,
        endUserKey,
        payloads: config.requestLog.payloads,
        encrypt: cipher.encryptField,
        onSealError: (error) =>
          logger.error({ err: { message: (error as Error).message } }, "could not encrypt a request-log payload"),
      })
    : undefined;

  // Limits are exact across processes only through Redis; without it each process counts alone.
  const limiter = settings.redisUrl
    ? createRedisLimiter({
        url: settings.redisUrl,
        onError: (error) => logger.warn({ err: { message: (error as Error).message } }, "rate limiter store error"),
      })
    : createMemoryLimiter({ clock });
  opened.push(() => limiter.close());

  // Response cache (opt-in per endpoint): in Redis when set, so every node shares it; else in memory.
  const responseCache = openResponseCache({
    endpoints: config.endpoints,
    redisUrl: settings.redisUrl,
    encryptionKey: deriveKey(masterKey, "response-cache-encryption"),
    keySecret: deriveKey(masterKey, "response-cache-keys"),
    metrics,
    onError: (error, suppressed) =>
      logger.warn(
        { err: { message: (error as Error).message }, suppressed },
        "response cache store error; served as a miss",
      ),
  });

  opened.push(() => responseCache?.close());
  // Tracing (opt-in): OpenTelemetry spans over OTLP. Off, the SDK is not even loaded.
  const tracing = config.tracing.enabled
    ? await startTracing(resolveTracingSettings(config.tracing, settings.env), {
        version: modelportVersion,
        onExportError: (error, lostSpans) =>
          logger.warn({ err: { message: error.message }, lostSpans }, "trace export failed; spans dropped"),
      })
    : undefined;
  opened.push(() => tracing?.shutdown());

  let draining = false;
  let inFlight = 0;
  const app = createGatewayApp({
    version: modelportVersion,
    endpoints,
    router,
    metrics,
    authenticator,
    verifyAdminToken: admin.check.verify,
    tenants,
    bodyLimitBytes: config.server.bodyLimitBytes,
    accessLogger: config.logging.accessLog ? logger : undefined,
    isDraining: () => draining,
    tracing,
    onFinished: (request) => {
      recordRequestMetrics(metrics, request);
      monitoring.observeFinished(request);
      requestLogRecorder?.record(request);
    },
    feedback: monitoring.feedbackPort,
    drift: drift.observer,
    onPredictObserverError: (error) =>
      logger.warn({ err: { message: (error as Error).message } }, "drift window update failed"),
    extraRoutes: [
      ...monitoringAdminRoutes({ tenants, quality: monitoring.quality }),
      ...drift.routes,
      ...training.routes,
      ...commerceAdminRoutes({
        tenants,
        ...commerce.admin,
        recordExport: exportAuditRecorder(recorder),
        recordPlanChange: planAuditRecorder(recorder),
      }),
    ],
    alerting: {
      createWebhook: (tenantId, url) => monitoring.webhooks.create(tenantId, url),
      listWebhooks: (tenantId) => monitoring.webhooks.list(tenantId),
      listAlerts: (tenantId) => monitoring.alerts.list({ tenantId }),
    },
    metering: commerce.metering,
    budgets: commerce.budgets,
    onMeteringError: (error) =>
      logger.error({ err: { message: (error as Error).message } }, "could not record a partial stream's usage"),
    privacy: createPrivacyFilters(config),
    capturePayloads: config.requestLog.enabled && config.requestLog.payloads,
    guards: createGuardProvider(config),
    audit,
    limiter,
    responseCache,
    onLimiterError: (error) =>
      logger.warn({ err: { message: (error as Error).message } }, "could not settle a rate-limit reservation"),
    requestLog: config.requestLog.enabled
      ? createRequestLogAdmin({ repository: requestLogRepository, endUserKey, audit, cipher })
      : undefined,
    ...(options.withoutCommerceStages ? withoutCommerceStages(authenticator) : {}),
  });

  const server = await new Promise<Server>((resolvePromise, reject) => {
    const created = serve({ fetch: app.fetch, hostname: settings.host, port: settings.port }, () =>
      resolvePromise(created as Server),
    ) as Server;
    created.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new ModelportError(
          "MP_CONFIG_INVALID",
          error.code === "EADDRINUSE"
            ? `port ${settings.port} on ${settings.host} is already in use (choose another with --port)`
            : `cannot listen on ${settings.host}:${settings.port}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
  });
  // Counting at the socket level covers streams: a request is in flight until its response closes.
  server.on("request", (_request, response) => {
    inFlight++;
    metrics.inFlight.inc();
    response.once("close", () => {
      inFlight--;
      metrics.inFlight.dec();
    });
  });
  server.keepAliveTimeout = 65_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : settings.port;
  const shownHost = settings.host.includes(":") ? `[${settings.host}]` : settings.host;

  let shutdownPromise: Promise<void> | undefined;
  async function shutdown(reason: string): Promise<void> {
    shutdownPromise ??= (async () => {
      draining = true;
      logger.info({ reason, inFlight }, "draining");
      server.close();
      server.closeIdleConnections();
      // Ends training event streams (so they do not hold the drain) and puts running jobs back in the queue.
      const trainingClosed = training
        .close()
        .catch((error) => logger.error({ err: { message: (error as Error).message } }, "closing training failed"));
      const deadline = Date.now() + config.server.drainTimeoutMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 25));
        server.closeIdleConnections();
      }
      if (inFlight > 0) logger.warn({ inFlight }, "drain timeout: closing remaining connections");
      server.closeAllConnections();
      router.close();
      stopRetention();
      await trainingClosed;
      await requestLogRecorder?.sealed();
      await requestLog?.close();
      await limiter.close();
      await responseCache?.close();
      await drift.stop();
      await monitoring.stop();
      await commerce.stop();
      // A signed checkpoint at shutdown anchors everything appended since the last one.
      await audit
        .createCheckpoint()
        .catch((error) =>
          logger.error({ err: { message: (error as Error).message } }, "audit checkpoint at shutdown failed"),
        );
      await Promise.allSettled([...runtimes.values(), ...registryRuntimes.values()].map((runtime) => runtime.close()));
      // The drained requests' spans may still be queued: export them before stopping.
      await tracing
        ?.shutdown()
        .catch((error) => logger.warn({ err: { message: (error as Error).message } }, "final trace export failed"));
      await storage.close();
      logger.info("stopped");
      await new Promise<void>((resolveFlush) => logger.flush(() => resolveFlush()));
    })();
    return shutdownPromise;
  }

  // Load local models in the background so the first request does not pay for it; failures are
  // logged and surface per request as MP_MODEL_NOT_READY.
  for (const [name, runtime] of runtimes)
    runtime
      .load()
      .catch((error) =>
        logger.error({ provider: name, err: { message: (error as Error).message } }, "model load failed"),
      );

  return { url: `http://${shownHost}:${port}`, port, generatedAdminToken: admin.generatedToken, logger, shutdown };
}
