import type { Kysely } from "kysely";
import { Gauge, type Registry } from "prom-client";
import type { ModelportConfig } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import type { AdminRoute } from "../gateway/admin/route-table.js";
import { driftAdminRoutes } from "../gateway/admin/routes-drift.js";
import type { EndpointRegistry } from "../gateway/endpoint-registry.js";
import type { PredictObserver } from "../gateway/protocols/oip-v2/routes.js";
import type { AlertDispatcher } from "../monitoring/alerts/dispatcher.js";
import { parseReferenceProfile } from "../monitoring/drift/index.js";
import { createDriftStore, createDriftWatch } from "../monitoring/drift-watch/index.js";
import { scheduleEvery } from "../monitoring/rules/index.js";
import type { Database } from "../storage/schema.js";
import type { ModelRegistry } from "../training/registry/index.js";
import type { Logger } from "./logger.js";

/**
 * Live drift for a running server: the OIP v2 infer path feeds windows (`observer`), snapshots are
 * saved every `drift.snapshotEveryMs`, windows are checked every `drift.checkEveryMs` and on demand
 * (admin routes), and dataset drift fires `drift-detected` to the operator's webhooks.
 */
export function startDriftWatch(options: {
  db: Kysely<Database>;
  config: Readonly<ModelportConfig>;
  clock: Clock;
  logger: Logger;
  /** The operator's (global) registry: registry:NAME@ALIAS targets resolve there. */
  registry: Pick<ModelRegistry, "referenceProfile">;
  alerts: Pick<AlertDispatcher, "fire">;
  endpoints: Pick<EndpointRegistry, "get">;
  /** The server's metrics registry: `modelport_drift_share` goes there. */
  metricsRegistry: Registry;
}) {
  const { config, logger } = options;
  const settings = config.drift;
  const driftShare = new Gauge({
    name: "modelport_drift_share",
    help: "Share of drifted columns at the latest drift check, per endpoint and registry model version.",
    labelNames: ["endpoint", "model", "version"] as const,
    registers: [options.metricsRegistry],
  });
  const watch = createDriftWatch({
    store: createDriftStore(options.db),
    clock: options.clock,
    alerts: options.alerts,
    profiles: {
      async get(model, version) {
        const stored = await options.registry.referenceProfile(model, version);
        return stored === undefined ? undefined : parseReferenceProfile(stored);
      },
    },
    settings: {
      windowMs: settings.windowMs,
      minRows: settings.minRows,
      driftShare: settings.driftShare,
      severity: settings.severity,
    },
    onError: (error, context) => logger.warn({ err: { message: (error as Error).message } }, `drift: ${context}`),
    onReport: (record) =>
      driftShare.set(
        { endpoint: record.endpoint, model: record.model, version: String(record.version) },
        record.driftShare,
      ),
  });
  const logError = (message: string) => (error: unknown) =>
    logger.error({ err: { message: (error as Error).message } }, message);
  const checks = settings.enabled
    ? scheduleEvery({
        intervalMs: settings.checkEveryMs,
        run: () => watch.checkAll(),
        onError: logError("drift check failed"),
      })
    : undefined;
  const snapshots = settings.enabled
    ? scheduleEvery({
        intervalMs: settings.snapshotEveryMs,
        run: () => watch.persist(),
        onError: logError("drift snapshot failed"),
      })
    : undefined;

  const observer: PredictObserver | undefined = settings.enabled ? watch : undefined;
  const routes: AdminRoute[] = driftAdminRoutes({ drift: watch, endpoints: options.endpoints });
  return {
    watch,
    /** For the gateway's OIP v2 routes (undefined when drift.enabled is false). */
    observer,
    /** The admin routes (GET /endpoints/{endpoint}/drift, POST /endpoints/{endpoint}/drift/check). */
    routes,
    /** For alert rules of kind `drift` (RuleSources.drift). */
    ruleSource: { latest: () => watch.latest() },
    async stop() {
      await checks?.stop();
      await snapshots?.stop();
      await watch.persist().catch(logError("final drift snapshot failed"));
    },
  };
}
