import { ModelportError } from "../../core/errors.js";
import { jobEventStream } from "../../training/jobs/job-event-stream.js";
import {
  enqueueTraining,
  type TrainingJobPayload,
  type TrainingJobResult,
  type TrainingJobsOptions,
} from "../../training/jobs/training-jobs.js";
import { type TrainingJobBody, toTrainingRequest, trainingJobBody } from "../../training/jobs/training-request.js";
import { type JobRecord, type JobRunner, jobStatuses } from "../../training/jobs/types.js";
import { type RunStatus, runStatuses, type TrackingStore } from "../../training/tracking/tracking-store.js";
import { type AdminRoute, adminRoute } from "./route-table.js";

export interface TrainingAdminDeps {
  runner: JobRunner<TrainingJobPayload, TrainingJobResult>;
  datasets: TrainingJobsOptions["datasets"];
  tracking: TrackingStore;
  /** A tenant name or id → its id; absent: the tenant named `default`, or the only tenant. */
  resolveTenant(reference: string | undefined): Promise<string>;
  /** Aborted when the server drains: open event streams end with a `shutdown` event. */
  shutdown?: AbortSignal;
  /** Seconds between SSE keep-alive comments and record re-reads (tests shorten them). */
  stream?: { keepAliveMs?: number; pollMs?: number };
}

type TrainingJob = JobRecord<TrainingJobPayload, TrainingJobResult>;

/** A job as the API shows it: the job id is also the id of its tracked run. */
export function trainingJobView(record: TrainingJob) {
  const { payload } = record;
  return {
    id: record.id,
    runId: payload.runId,
    tenantId: payload.tenantId,
    status: record.status,
    dataset: `${payload.datasetName}@${payload.datasetVersion}`,
    template: payload.template,
    hyperparameters: payload.hyperparameters,
    seed: payload.seed,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    // BullMQ reports 0 before the first progress event.
    progress: typeof record.progress === "object" ? record.progress : null,
    result: record.result,
    error: record.error,
  };
}

function oneOf<T extends string>(query: Record<string, string>, name: string, allowed: readonly T[]): T | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new ModelportError("MP_INVALID_REQUEST", `${name} must be one of ${allowed.join(", ")}`, { param: name });
  return value as T;
}

function limitOf(query: Record<string, string>): number | undefined {
  const value = query.limit;
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > 1000)
    throw new ModelportError("MP_INVALID_REQUEST", "limit must be an integer from 1 to 1000", { param: "limit" });
  return limit;
}

/** A dataset problem found at submit time names the `dataset` field, whatever the store called it. */
/** Queues a validated job request (the admin route, and retraining asked for by an accuracy rule). */
export async function submitTrainingJob(deps: TrainingAdminDeps, body: TrainingJobBody) {
  const tenantId = await deps.resolveTenant(body.tenant);
  try {
    return await enqueueTraining(
      deps.runner,
      { datasets: deps.datasets, tracking: deps.tracking },
      toTrainingRequest(tenantId, body),
    );
  } catch (error) {
    if (error instanceof ModelportError && (error.code === "MP_NOT_FOUND" || error.code === "MP_INVALID_REQUEST"))
      throw new ModelportError(error.code, error.message, { param: "dataset", cause: error });
    throw error;
  }
}

/**
 * Training through the server's job queue (operator only: models are shared by every tenant).
 * Jobs train a template on a tenant's dataset version; each is tracked as a run with the same id.
 */
export function trainingAdminRoutes(deps: TrainingAdminDeps): AdminRoute[] {
  const { runner, tracking } = deps;
  const getJob = async (id: string) => {
    const record = await runner.get(id);
    if (record === undefined) throw new ModelportError("MP_NOT_FOUND", `no training job '${id}'`, { param: "job" });
    return record;
  };
  return [
    adminRoute({
      method: "post",
      path: "/training/jobs",
      summary:
        "Queue a training job: a template (mlp, regression, bow, cnn, lstm, transformer) on a tenant's dataset version, with hyperparameters and a seed",
      permission: "training:manage",
      body: trainingJobBody,
      status: 201,
      handler: async ({ body }) => trainingJobView((await submitTrainingJob(deps, body)).job),
    }),
    adminRoute({
      method: "get",
      path: "/training/jobs",
      summary: "Training jobs the queue holds, newest first (query: status, tenant)",
      permission: "training:read",
      handler: async ({ query }) => {
        const status = oneOf(query, "status", jobStatuses);
        const tenantId = query.tenant === undefined ? undefined : await deps.resolveTenant(query.tenant);
        const jobs = (await runner.list()).filter(
          (job) =>
            (status === undefined || job.status === status) &&
            (tenantId === undefined || job.payload.tenantId === tenantId),
        );
        return { data: jobs.map(trainingJobView) };
      },
    }),
    adminRoute({
      method: "get",
      path: "/training/jobs/{job}",
      summary: "A training job: status, last progress, result (test metrics, artifact directory) or error",
      permission: "training:read",
      handler: async ({ params }) => trainingJobView(await getJob(params.job ?? "")),
    }),
    adminRoute({
      method: "get",
      path: "/training/jobs/{job}/events",
      summary:
        "Server-Sent Events of a training job: `status` now, `epoch` (metrics per epoch) and `batch` progress, then the final `status`; the stream ends with the job",
      permission: "training:read",
      produces: "text/event-stream",
      handler: async ({ params }) => {
        const record = await getJob(params.job ?? "");
        const stream = jobEventStream({
          runner,
          jobId: record.id,
          view: trainingJobView,
          progressEvent: (progress) => {
            const phase = (progress as { phase?: unknown } | null)?.phase;
            return phase === "epoch" || phase === "batch" ? phase : "progress";
          },
          ...(deps.shutdown === undefined ? {} : { shutdown: deps.shutdown }),
          ...(deps.stream?.keepAliveMs === undefined ? {} : { keepAliveMs: deps.stream.keepAliveMs }),
          ...(deps.stream?.pollMs === undefined ? {} : { pollMs: deps.stream.pollMs }),
        });
        return new Response(stream, {
          status: 200,
          headers: {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "x-accel-buffering": "no",
          },
        });
      },
    }),
    adminRoute({
      method: "get",
      path: "/runs",
      summary:
        "A tenant's tracked runs (trainer jobs and external programs), newest first (query: tenant, status, limit)",
      permission: "training:read",
      handler: async ({ query }) => {
        const tenantId = await deps.resolveTenant(query.tenant);
        const status = oneOf<RunStatus>(query, "status", runStatuses);
        const limit = limitOf(query);
        return {
          data: await tracking.listRuns(tenantId, {
            ...(status === undefined ? {} : { status }),
            ...(limit === undefined ? {} : { limit }),
          }),
        };
      },
    }),
    adminRoute({
      method: "get",
      path: "/runs/{run}",
      summary: "A run with its params, per-step metrics, final metrics and artifacts (query: tenant)",
      permission: "training:read",
      handler: async ({ params, query }) => tracking.showRun(await deps.resolveTenant(query.tenant), params.run ?? ""),
    }),
  ];
}
