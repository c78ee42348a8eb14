/**
 * Experiment tracking: runs (trainer jobs and external programs) with params, per-step metrics,
 * artifacts (sha256), status, duration, git commit and dataset version; list, show, compare.
 * Every query is tenant-scoped. `startTrackingServer` is the local HTTP API external runs log to.
 */

export { type ExternalRunOptions, type ExternalRunResult, runExternal } from "./external-run.js";
export { readGitCommit } from "./git-commit.js";
export { startTrackingServer, type TrackingServer } from "./tracking-server.js";
export {
  type ArtifactRecord,
  type CreateRunInput,
  createTrackingStore,
  type MetricPoint,
  type ParamValue,
  type RunComparison,
  type RunDetail,
  type RunRecord,
  type RunStatus,
  runStatuses,
  type TrackingStore,
  type TrackingStoreOptions,
} from "./tracking-store.js";
