import { join } from "node:path";
import { Gauge, type Registry } from "prom-client";
import type { ModelportConfig } from "../config/schema.js";
import { type Clock, systemClock } from "../core/clock.js";
import { ModelportError } from "../core/errors.js";
import type { Storage } from "../core/storage.js";
import type { AdminRoute } from "../gateway/admin/route-table.js";
import { submitTrainingJob, trainingAdminRoutes } from "../gateway/admin/routes-training.js";
import type { DatabaseHandle } from "../storage/database.js";
import { createDatasetStore } from "../training/datasets/dataset-store.js";
import { interruptedJobError, openInProcessJobRunner } from "../training/jobs/in-process-runner.js";
import { createFileJobJournal } from "../training/jobs/job-journal.js";
import {
  createTrainingJobProcessor,
  type TrainingJobPayload,
  type TrainingJobResult,
} from "../training/jobs/training-jobs.js";
import { trainingJobBody } from "../training/jobs/training-request.js";
import { type JobRunner, jobStatuses } from "../training/jobs/types.js";
import { createTrackingStore } from "../training/tracking/tracking-store.js";

export interface TrainingWiringOptions {
  handle: DatabaseHandle;
  storage: Storage;
  dataDir: string;
  /** MODELPORT_REDIS_URL: BullMQ when set, the in-process queue otherwise. */
  redisUrl: string | undefined;
  config: ModelportConfig["training"];
  /** The server's prom-client registry (createMetrics().registry). */
  registry: Registry;
  logger: { warn(object: object, message: string): void; error(object: object, message: string): void };
  clock?: Clock;
}

export interface Training {
  runner: JobRunner<TrainingJobPayload, TrainingJobResult>;
  /** The admin routes (/training/jobs…, /runs…) for AdminDeps.extraRoutes. */
  routes: AdminRoute[];
  /** Queues a job from a `POST /training/jobs` body (validated here); used for automatic retraining. */
  enqueue(request: unknown): Promise<{ jobId: string }>;
  /** Ends open event streams, stops taking jobs and puts running ones back in the queue. */
  close(): Promise<void>;
}

/** Validates a job request as `POST /training/jobs` does; `where` names it in the error. */
export function parseTrainingRequest(request: unknown, where: string) {
  const parsed = trainingJobBody.safeParse(request);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.map(String).join(".");
  throw new ModelportError("MP_INVALID_REQUEST", `${where}${field ? `.${field}` : ""}: ${issue?.message ?? "invalid"}`);
}

/** `tenant` in a request (name or id); without it the tenant named `default`, or the only one. */
async function resolveTenant(storage: Storage, reference: string | undefined): Promise<string> {
  if (reference !== undefined) {
    const tenant = (await storage.tenants.getById(reference)) ?? (await storage.tenants.getByName(reference));
    if (tenant === undefined)
      throw new ModelportError("MP_NOT_FOUND", `no tenant with id or name '${reference}'`, { param: "tenant" });
    return tenant.id;
  }
  const named = await storage.tenants.getByName("default");
  if (named !== undefined) return named.id;
  const all = await storage.tenants.list();
  if (all.length === 1) return (all[0] as { id: string }).id;
  throw new ModelportError(
    "MP_INVALID_REQUEST",
    all.length === 0 ? "no tenant exists yet" : "several tenants exist: name one in 'tenant'",
    { param: "tenant" },
  );
}

/**
 * Training in the server: a job queue with a worker in this process. Without Redis the queue is
 * in-process and journaled under `<dataDir>/training/jobs`: jobs queued at a restart run again,
 * a job running when the process died is marked failed (see openInProcessJobRunner). With Redis
 * it is BullMQ, and any server sharing the Redis and the database can run the jobs.
 */
export async function startTraining(options: TrainingWiringOptions): Promise<Training> {
  const { handle, storage, dataDir, logger } = options;
  const clock = options.clock ?? systemClock;
  const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
  const tracking = createTrackingStore({ db: handle.db, clock });
  const processor = createTrainingJobProcessor({ datasets, tracking, artifactsDir: join(dataDir, "runs") });
  const logError = (message: string) => (error: unknown) =>
    logger.error({ err: { message: (error as Error).message } }, message);

  if (!options.config.worker && options.redisUrl === undefined)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      "training.worker: false leaves the in-process queue without a worker; set MODELPORT_REDIS_URL so `modelport worker` processes can take the jobs, or keep training.worker: true",
    );
  const runner: JobRunner<TrainingJobPayload, TrainingJobResult> =
    options.redisUrl !== undefined
      ? // BullMQ loads only when Redis is configured: the embedded default does not pay for it.
        await (await import("../training/jobs/bullmq-runner.js")).createBullMqJobRunner({
          redisUrl: options.redisUrl,
          prefix: options.config.queuePrefix,
          concurrency: options.config.concurrency,
          // A gateway with training.worker: false only produces jobs; `modelport worker` trains them.
          ...(options.config.worker ? { process: processor } : {}),
        })
      : await openInProcessJobRunner({
          journal: createFileJobJournal(join(dataDir, "training", "jobs")),
          process: processor,
          concurrency: options.config.concurrency,
          clock,
          onJournalError: logError("could not write the training job journal"),
          onInterrupted: async (record) => {
            logger.warn({ job: record.id }, "training job was running when the server stopped; marked failed");
            await tracking
              .finishRun(record.payload.tenantId, record.payload.runId, {
                status: "failed",
                error: interruptedJobError,
              })
              .catch(logError("could not mark an interrupted training run failed"));
          },
        });

  // Read at scrape time from the queue itself, so they are right for BullMQ jobs of other workers too.
  new Gauge({
    name: "modelport_training_jobs",
    help: "Training jobs by status (finished ones: those the queue still lists).",
    labelNames: ["status"] as const,
    registers: [options.registry],
    async collect() {
      const counts = await runner.counts().catch(() => undefined);
      if (counts !== undefined) for (const status of jobStatuses) this.set({ status }, counts[status]);
    },
  });
  new Gauge({
    name: "modelport_training_queue_depth",
    help: "Training jobs waiting for a worker.",
    registers: [options.registry],
    async collect() {
      const counts = await runner.counts().catch(() => undefined);
      if (counts !== undefined) this.set(counts.queued);
    },
  });

  const shutdown = new AbortController();
  const adminDeps = {
    runner,
    datasets,
    tracking,
    resolveTenant: (reference: string | undefined) => resolveTenant(storage, reference),
    shutdown: shutdown.signal,
  };
  return {
    runner,
    routes: trainingAdminRoutes(adminDeps),
    async enqueue(request) {
      const { job } = await submitTrainingJob(adminDeps, parseTrainingRequest(request, "training request"));
      return { jobId: job.id };
    },
    async close() {
      shutdown.abort();
      await runner.close();
      options.registry.removeSingleMetric("modelport_training_jobs");
      options.registry.removeSingleMetric("modelport_training_queue_depth");
    },
  };
}
