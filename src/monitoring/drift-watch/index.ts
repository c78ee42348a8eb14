/** Live drift detection: windows of traffic per endpoint and version, scheduled and on-demand checks, persistence. */
export {
  createDriftStore,
  type DriftCheckRecord,
  type DriftCheckSummary,
  type DriftStore,
  type StoredWindow,
} from "./store.js";
export { MAX_ROWS_PER_REQUEST, type PredictObservation, rowsFromTensors } from "./tensor-rows.js";
export {
  createDriftWatch,
  type DriftCheckOutcome,
  type DriftWatch,
  type DriftWatchOptions,
  type DriftWatchSettings,
  type LiveWindowView,
  type ReferenceProfileSource,
  registryModelOf,
} from "./watch.js";
