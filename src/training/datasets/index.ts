/**
 * Datasets: import (CSV, JSONL, PNG folders, npm examples) into immutable content-addressed
 * versions with an inferred schema and a quality report; seeded stratified splits.
 */
export { canonicalize, canonicalJson, datasetFormat, parseCanonical } from "./canonical.js";
export {
  checkDatasetName,
  createDatasetStore,
  type DatasetStore,
  type DatasetStoreOptions,
  type ImportRequest,
  type ImportResult,
  type LoadedDataset,
  parseDatasetReference,
  splitVersion,
} from "./dataset-store.js";
export { type Example, exampleNames, isExampleName, loadExample } from "./examples.js";
export { inferSchema } from "./infer-schema.js";
export { type AppliedPolicy, applyCellPolicy } from "./pii-policy.js";
export type { PiiCellFilter, PiiCellPolicy, PiiCellVerdict, PiiScanFinding, PiiScanner } from "./pii-scanner.js";
export { type DecodedImage, decodePng, encodePng } from "./png.js";
export { qualityReport } from "./quality-report.js";
export { parseCsv, readCsv } from "./read-csv.js";
export { readImageFolder } from "./read-image-folder.js";
export { parseJsonl, readJsonl } from "./read-jsonl.js";
export { createSeededRandom, type SeededRandom } from "./seeded-random.js";
export { type DatasetSplit, type SplitFractions, type SplitOptions, splitDataset } from "./split.js";
export type * from "./types.js";
