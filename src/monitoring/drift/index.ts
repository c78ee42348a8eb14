/** Drift detection: reference profiles, live windows, Evidently's tests with SciPy's numbers. */
export { createAnchoredAccumulator, EXTRA_LIMIT } from "./anchored-accumulator.js";
export { OTHER_CATEGORY } from "./categorical-counter.js";
export {
  type ColumnPair,
  DEFAULT_THRESHOLDS,
  DRIFT_TEST_NAMES,
  type DriftTestName,
  defaultTestFor,
  isDriftTestName,
  runDriftTest,
} from "./column-test.js";
export { compareProfiles, type ProfileDriftReport } from "./compare.js";
export { type CsvTable, pairCsvColumns, readCsvTable } from "./csv-columns.js";
export { type CsvProfileOptions, inferCsvColumnType, profileFromCsv } from "./csv-profile.js";
export type { ColumnValues, DictionaryColumn } from "./feature-sink.js";
export type { FeatureSpec, FeatureType } from "./features.js";
export {
  createProfileBuilder,
  type PredictionSpec,
  type ProfileBuilder,
  type ProfileOptions,
  parseReferenceProfile,
  type ReferenceProfile,
} from "./profile.js";
export { type DriftColumnReport, type DriftOptions, type DriftReport, driftReport } from "./report.js";
export { createDriftWindow, type DriftWindow, type WindowProfile } from "./window.js";
