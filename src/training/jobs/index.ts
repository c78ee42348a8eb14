/**
 * Background jobs: an in-process FIFO queue (default; journaled in the server so jobs survive a
 * restart) and a BullMQ adapter (when Redis is configured), with progress events per job for the
 * CLI bar and the admin SSE stream.
 */
export { type BullMqRunnerOptions, createBullMqJobRunner } from "./bullmq-runner.js";
export {
  createInProcessJobRunner,
  type InProcessRunnerOptions,
  interruptedJobError,
  openInProcessJobRunner,
} from "./in-process-runner.js";
export { type JobEventStreamOptions, jobEventStream } from "./job-event-stream.js";
export { createFileJobJournal, type JobJournal } from "./job-journal.js";
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
export { hyperparametersSchema, type TrainingJobBody, toTrainingRequest, trainingJobBody } from "./training-request.js";
export * from "./types.js";
