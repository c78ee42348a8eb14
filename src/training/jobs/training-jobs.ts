import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { DatasetStore } from "../datasets/dataset-store.js";
import { parseDatasetReference } from "../datasets/dataset-store.js";
import { readGitCommit } from "../tracking/git-commit.js";
import type { RunRecord, TrackingStore } from "../tracking/tracking-store.js";
import type { EpochProgress, Hyperparameters, TemplateName } from "../trainers/types.js";
import type { JobProcessor, JobRecord, JobRunner } from "./types.js";

export interface TrainingRequest {
  tenantId: string;
  /** `name` or `name@version` (a sha256 prefix). */
  dataset: string;
  template: TemplateName;
  hyperparameters?: Hyperparameters;
  seed?: number;
  name?: string;
}

/** What goes through the queue (JSON, so BullMQ can carry it). */
export interface TrainingJobPayload {
  tenantId: string;
  runId: string;
  datasetName: string;
  /** The full sha256, resolved at enqueue time so the job trains exactly what was asked. */
  datasetVersion: string;
  template: TemplateName;
  hyperparameters: Hyperparameters;
  seed: number;
}

export interface TrainingJobResult {
  runId: string;
  directory: string;
  metrics: Record<string, number>;
  bestEpoch: number;
  stoppedEarly: boolean;
  durationMs: number;
}

/** Progress events a training job streams (the SSE route forwards them as they are). */
export type TrainingProgress = EpochProgress & { runId: string };

export interface TrainingJobsOptions {
  datasets: DatasetStore;
  tracking: TrackingStore;
  /** Artifacts go to `<artifactsDir>/<tenant>/<runId>/` (the server uses `<dataDir>/runs`). */
  artifactsDir: string;
  /** Minimum milliseconds between per-batch progress events (default 250; epoch ends always go). */
  progressIntervalMs?: number;
}

/**
 * Creates the tracked run (status queued, params, dataset version, git commit) and enqueues the
 * job; the job id is the run id, so `runs show` and the job stream use one identifier.
 */
export async function enqueueTraining(
  runner: JobRunner<TrainingJobPayload, TrainingJobResult>,
  options: Pick<TrainingJobsOptions, "datasets" | "tracking">,
  request: TrainingRequest,
): Promise<{ run: RunRecord; job: JobRecord<TrainingJobPayload, TrainingJobResult> }> {
  const reference = parseDatasetReference(request.dataset);
  const version = await options.datasets.get(request.tenantId, reference.name, reference.version);
  const seed = request.seed ?? 42;
  const hyperparameters = request.hyperparameters ?? {};
  const run = await options.tracking.createRun(request.tenantId, {
    name: request.name ?? `${request.template}-${reference.name}`,
    kind: "trainer",
    params: { template: request.template, seed, ...hyperparameters },
    dataset: `${version.name}@${version.version}`,
    gitCommit: await readGitCommit(),
  });
  const job = await runner.enqueue(
    {
      tenantId: request.tenantId,
      runId: run.id,
      datasetName: version.name,
      datasetVersion: version.version,
      template: request.template,
      hyperparameters,
      seed,
    },
    { jobId: run.id },
  );
  return { run, job };
}

/**
 * The processor both runners execute: trains, streams progress, and records everything in tracking.
 * Each attempt starts clean (an attempt cut short by a shutdown left metrics and files behind);
 * when the runner aborts it, the run goes back to `queued` with the job.
 */
export function createTrainingJobProcessor(
  options: TrainingJobsOptions,
): JobProcessor<TrainingJobPayload, TrainingJobResult> {
  const interval = options.progressIntervalMs ?? 250;
  return async (payload, context) => {
    const { tracking, datasets } = options;
    const { tenantId, runId } = payload;
    const directory = join(options.artifactsDir, tenantId, runId);
    await tracking.resetRun(tenantId, runId, "running");
    await rm(directory, { recursive: true, force: true });
    // Metric writes run one after another off the training loop; awaited before the run ends.
    let writes: Promise<unknown> = Promise.resolve();
    const log = (name: string, value: number, step: number) => {
      writes = writes.then(() => tracking.logMetric(tenantId, runId, { name, value, step })).catch(() => undefined);
    };
    try {
      const dataset = await datasets.load(tenantId, payload.datasetName, payload.datasetVersion);
      // Loaded lazily: TensorFlow.js is heavy and only the worker needs it.
      const { trainModel } = await import("../trainers/train-model.js");
      let lastBatch = 0;
      const result = await trainModel({
        dataset,
        template: payload.template,
        hyperparameters: payload.hyperparameters,
        seed: payload.seed,
        outputDir: directory,
        signal: context.signal,
        onProgress: (progress) => {
          const now = Date.now();
          if (progress.phase === "batch" && now - lastBatch < interval) return;
          lastBatch = now;
          context.report({ ...progress, runId } satisfies TrainingProgress);
          if (progress.phase === "epoch") {
            log("loss", progress.loss, progress.epoch);
            if (progress.valLoss !== null) log("val_loss", progress.valLoss, progress.epoch);
            for (const [name, value] of Object.entries(progress.metrics)) log(name, value, progress.epoch);
          }
        },
      });
      for (const [name, value] of Object.entries(result.metrics)) log(`test_${name}`, value, 0);
      await writes;
      for (const entry of await readdir(directory, { withFileTypes: true })) {
        if (entry.isFile()) await tracking.logArtifact(tenantId, runId, { path: entry.name, baseDir: directory });
      }
      await tracking.finishRun(tenantId, runId, { status: "succeeded" });
      return {
        runId,
        directory: result.directory,
        metrics: result.metrics,
        bestEpoch: result.bestEpoch,
        stoppedEarly: result.stoppedEarly,
        durationMs: result.durationMs,
      };
    } catch (error) {
      await writes;
      if (context.signal.aborted) {
        await tracking.resetRun(tenantId, runId, "queued").catch(() => undefined);
        throw error;
      }
      await tracking
        .finishRun(tenantId, runId, { status: "failed", error: error instanceof Error ? error.message : String(error) })
        .catch(() => undefined);
      throw error;
    }
  };
}
