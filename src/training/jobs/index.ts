/**
 * Background jobs: an in-process FIFO queue (default) and a BullMQ adapter (when Redis is
 * configured), with progress events per job for the CLI bar and the admin SSE stream.
 */
export { type BullMqRunnerOptions, createBullMqJobRunner } from "./bullmq-runner.js";
export { createInProcessJobRunner, type InProcessRunnerOptions } from "./in-process-runner.js";
export { createProgressRenderer, formatProgressLine, type ProgressRenderer } from "./progress-line.js";
export {
  createTrainingJobProcessor,
  enqueueTraining,
  type TrainingJobPayload,
  type TrainingJobResult,
  type TrainingJobsOptions,
  type TrainingProgress,
  type TrainingRequest,
} from "./training-jobs.js";
export type * from "./types.js";
