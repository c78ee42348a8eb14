import type { Kysely } from "kysely";
import type { ModelportConfig } from "../config/schema.js";
import type { Clock } from "../core/clock.js";
import { ModelportError } from "../core/errors.js";
import type { FinishedRequest } from "../gateway/context.js";
import type { EndpointRegistry } from "../gateway/endpoint-registry.js";
import { createAlertDispatcher } from "../monitoring/alerts/dispatcher.js";
import { createWebhookRepository } from "../monitoring/alerts/webhooks.js";
import { createFeedbackStore, parseFeedbackBody } from "../monitoring/feedback/index.js";
import type { PredictionRecord } from "../monitoring/feedback/types.js";
import { createRollbackGuard } from "../monitoring/rollback/index.js";
import {
  createRequestStatsSource,
  parseAlertRules,
  type RuleSources,
  scheduleEvery,
  scheduleRules,
} from "../monitoring/rules/index.js";
import type { Database } from "../storage/schema.js";
import type { Logger } from "./logger.js";

/**
 * Monitoring for a running server: alert delivery (signed webhooks), feedback and predictions,
 * alert rules on a schedule, and automatic rollback of canaries that breach their SLOs.
 */
export function startMonitoring(options: {
  db: Kysely<Database>;
  config: Readonly<ModelportConfig>;
  clock: Clock;
  logger: Logger;
  endpoints: EndpointRegistry;
  webhookSecretKey: Buffer;
  /** Queues a training job (accuracy rules with `retrain`); without it such rules only alert. */
  requestTraining?: (request: unknown) => Promise<{ jobId: string }>;
  validateTraining?: (request: unknown, where: string) => void;
}) {
  const { db, config, clock, logger, endpoints } = options;
  const logError = (message: string) => (error: unknown) =>
    logger.error({ err: { message: (error as Error).message } }, message);
  const webhooks = createWebhookRepository({
    db,
    clock,
    secretKey: options.webhookSecretKey,
    operatorWebhooks: config.alerts.webhooks,
  });
  const alerts = createAlertDispatcher({
    db,
    clock,
    webhooksFor: (tenantId) => webhooks.targetsFor(tenantId),
    onDeliveryFailed: (alert, error) => logger.warn({ alertId: alert.id, error }, "alert delivery failed"),
  });
  const feedback = createFeedbackStore({ db, clock });
  let driftSource: RuleSources["drift"];
  const requests = createRequestStatsSource(db);

  // Predictions are written in small batches; feedback flushes them first so a label sent right
  // after its request finds it.
  let pending: PredictionRecord[] = [];
  const flushPredictions = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await feedback.recordPredictions(batch).catch((error) => {
      pending = [...batch, ...pending].slice(-50_000);
      logError("could not record predictions")(error);
    });
  };
  const recordPrediction = (record: PredictionRecord) => {
    pending.push(record);
    if (pending.length >= 500) void flushPredictions();
  };
  const predictionsTimer = setInterval(() => void flushPredictions(), 500);
  predictionsTimer.unref();

  const alertRules = parseAlertRules(config.alerts.rules);
  // A retraining request that could never be queued is a config error now, not a log line later.
  for (const rule of alertRules)
    if (rule.retrain) {
      try {
        options.validateTraining?.(rule.retrain, `alerts.rules[${rule.name}].retrain`);
      } catch (error) {
        throw new ModelportError("MP_CONFIG_INVALID", (error as Error).message);
      }
    }
  const retrainSpecs = new Map(
    alertRules.flatMap((rule) => (rule.retrain ? [[rule.name, rule.retrain] as const] : [])),
  );
  const retrain = (rule: string, alertId: string | undefined) => {
    const spec = retrainSpecs.get(rule);
    if (!spec) return;
    if (!options.requestTraining) {
      logger.warn({ rule }, "accuracy rule asks for retraining but training is not available");
      return;
    }
    options
      .requestTraining(spec)
      .then(({ jobId }) => logger.warn({ rule, alertId, jobId }, "retraining queued by an accuracy rule"))
      .catch(logError(`could not queue the retraining of rule ${rule}`));
  };
  const rules = scheduleRules({
    intervalMs: config.alerts.evaluateEveryMs,
    clock,
    rules: alertRules,
    // The drift watch starts after monitoring (it fires through these alerts): a late-bound source.
    sources: { requests, quality: feedback, drift: { latest: () => driftSource?.latest() ?? Promise.resolve([]) } },
    alerts,
    onOutcomes: (outcomes) => {
      for (const outcome of outcomes) {
        if (outcome.error !== undefined) logger.warn({ ...outcome }, "alert rule could not be evaluated");
        else if (outcome.isNew) {
          logger.warn({ ...outcome }, "alert rule fired");
          retrain(outcome.rule, outcome.alertId);
        }
      }
    },
    onError: logError("alert rule evaluation failed"),
  });

  const rollback = createRollbackGuard({
    db,
    clock,
    alerts,
    requests,
    quality: feedback,
    setTargetWeight: async (endpoint, targetId, weight) => {
      const target = endpoints.get(endpoint)?.route.targets.find((candidate) => candidate.id === targetId);
      if (target) target.weight = weight;
      logger.warn({ endpoint, target: targetId, weight }, "canary weight changed by auto-rollback");
    },
  });
  const canaryPairs = () =>
    endpoints
      .list()
      .filter((entry) => entry.config.autoRollback)
      .flatMap((entry) => {
        const weighted = [...entry.route.targets].sort((a, b) => b.weight - a.weight);
        const stable = weighted[0];
        return stable
          ? weighted.slice(1).map((canary) => ({ endpoint: entry.name, canary: canary.id, stable: stable.id }))
          : [];
      });
  const rollbackSchedule = scheduleEvery({
    intervalMs: 30_000,
    run: () => rollback.checkAll(canaryPairs()),
    onError: logError("canary check failed"),
  });

  return {
    alerts,
    webhooks,
    rollback,
    canaryPairs,
    /** Drift rules read the drift watch's latest reports once it runs. */
    setDriftSource(source: NonNullable<RuleSources["drift"]>) {
      driftSource = source;
    },
    /** Live accuracy/F1 from feedback, for the admin API. */
    quality: feedback,
    pendingPredictions: () => pending.length,
    /** Predict requests whose answer carried a label: the prediction feedback labels join later. */
    observeFinished(request: FinishedRequest) {
      if (request.predictedLabel === undefined || !request.principal || !request.endpoint) return;
      recordPrediction({
        requestId: request.requestId,
        tenantId: request.principal.tenantId,
        endpoint: request.endpoint,
        target: request.target ?? null,
        modelVersion: request.modelVersion ?? null,
        predictedLabel: request.predictedLabel,
        createdAt: request.time,
      });
    },
    recordPrediction,
    feedbackPort: {
      async submit(tenantId: string, body: unknown) {
        await flushPredictions();
        const parsed = parseFeedbackBody(body);
        const receipt = await feedback.submit({ tenantId, ...parsed });
        return { ...receipt } as Record<string, unknown>;
      },
    },
    async stop() {
      clearInterval(predictionsTimer);
      await rules.stop();
      await rollbackSchedule.stop();
      await flushPredictions();
      await alerts.close();
    },
  };
}
