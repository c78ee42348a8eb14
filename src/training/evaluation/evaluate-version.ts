import { join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import type { DatasetStore, LoadedDataset } from "../datasets/dataset-store.js";
import { splitVersion } from "../datasets/dataset-store.js";
import { readOptionalJson } from "../registry/artifact-files.js";
import type { ModelRegistry } from "../registry/registry.js";
import type { ModelTask, ModelVersion } from "../registry/types.js";
import { type EvaluationReport, evaluateClassification, evaluateRegression, summarizeMetrics } from "./evaluate.js";
import type { Label } from "./labels.js";
import { classificationBySlice, regressionBySlice, type Slice, type SliceValue } from "./slices.js";
import {
  openVersionPredictor,
  readVersionModel,
  type VersionModel,
  type VersionPredictor,
} from "./version-predictor.js";

/**
 * `modelport eval`: a registered version's predictions on a dataset version's split, scored with
 * this module's metrics. The split is the trainer's (splitVersion with the same seed and
 * fractions), so on the model's own dataset version the test split is the one its registered
 * metrics were measured on.
 */

export const evaluationSplits = ["test", "validation", "train", "all"] as const;
export type EvaluationSplit = (typeof evaluationSplits)[number];

export interface EvaluateVersionOptions {
  registry: ModelRegistry;
  datasets: DatasetStore;
  /** The tenant whose datasets are read. */
  tenantId: string;
  model: { name: string; version?: number; alias?: string };
  /** Default: the dataset version in the model's lineage (or its metrics.json). */
  dataset?: { name: string; version?: string };
  split?: EvaluationSplit;
  /** Default: the lineage's splitSeed, else the seed in metrics.json, else 42 (the trainer's default). */
  seed?: number;
  /** A dataset column to report metrics by. */
  slice?: string;
  /** Rows per model call (default 256, the trainer's evaluation batch). */
  batchSize?: number;
}

export interface VersionEvaluation {
  model: string;
  version: number;
  aliases: string[];
  dataset: { name: string; version: string };
  split: EvaluationSplit;
  /** The split seed; null for `all`. */
  seed: number | null;
  rows: number;
  task: ModelTask;
  /** The flat metrics the registry records (summarizeMetrics). */
  metrics: Record<string, number>;
  report: EvaluationReport;
  /** The version's registered metrics when this is the test set they were measured on, else null. */
  registeredMetrics: Record<string, number> | null;
  bySlice?: { column: string; slices: Slice<EvaluationReport>[] };
  /** Things worth telling the user (e.g. a test split of another dataset version than the model's). */
  notes: string[];
}

/** What the trainer wrote about the split in metrics.json (absent for external artifacts). */
interface TrainerRecord {
  seed?: number;
  dataset?: { name: string; version: string };
  testFraction?: number;
  validationFraction?: number;
}

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

const isFraction = (value: unknown): value is number => typeof value === "number" && value >= 0 && value < 1;

async function readTrainerRecord(directory: string): Promise<TrainerRecord> {
  const json = (await readOptionalJson(join(directory, "metrics.json"))) as Record<string, unknown> | undefined;
  if (typeof json !== "object" || json === null) return {};
  const record: TrainerRecord = {};
  if (Number.isInteger(json.seed)) record.seed = json.seed as number;
  const dataset = json.dataset as { name?: unknown; version?: unknown } | undefined;
  if (typeof dataset?.name === "string" && typeof dataset.version === "string")
    record.dataset = { name: dataset.name, version: dataset.version };
  const hp = json.hyperparameters as Record<string, unknown> | undefined;
  if (isFraction(hp?.testFraction)) record.testFraction = hp.testFraction;
  if (isFraction(hp?.validationFraction)) record.validationFraction = hp.validationFraction;
  return record;
}

/** The trainer's split fractions: lineage parameters, then metrics.json, then its defaults (test 0.2, validation 0.1). */
function splitFractions(version: ModelVersion, trainer: TrainerRecord): { test: number; validation: number } {
  const parameters = version.lineage.parameters ?? {};
  const test = isFraction(parameters.testFraction) ? parameters.testFraction : (trainer.testFraction ?? 0.2);
  const validation = isFraction(parameters.validationFraction)
    ? parameters.validationFraction
    : (trainer.validationFraction ?? 0.1);
  return { test, validation };
}

function checkColumns(dataset: LoadedDataset, predictor: VersionModel, slice?: string): void {
  const { label } = predictor;
  const { columns } = dataset.table;
  const where = `dataset ${dataset.version.name}@${dataset.version.version.slice(0, 12)}`;
  for (const column of predictor.inputColumns)
    if (!columns.includes(column))
      throw invalid(`${where} has no column '${column}', an input of ${label} (it has ${columns.join(", ")})`, column);
  if (!columns.includes(predictor.labelColumn))
    throw invalid(`${where} has no label column '${predictor.labelColumn}', which ${label} predicts`, "dataset");
  if (slice !== undefined && !columns.includes(slice))
    throw invalid(`${where} has no column '${slice}' to slice by (it has ${columns.join(", ")})`, "slice");
}

function sliceValues(dataset: LoadedDataset, column: string, indices: readonly number[]): SliceValue[] {
  const position = dataset.table.columns.indexOf(column);
  return indices.map((row) => {
    const cell = dataset.table.rows[row]?.[position];
    if (Array.isArray(cell)) throw invalid(`column '${column}' holds images; slice by a scalar column`, "slice");
    return (cell ?? null) as SliceValue;
  });
}

/** True labels as the trainer scored them: encoded through the saved label spec and decoded again. */
function trueLabels(dataset: LoadedDataset, predictor: VersionModel, indices: readonly number[]) {
  const position = dataset.table.columns.indexOf(predictor.labelColumn);
  const cells = indices.map((row) => dataset.table.rows[row]?.[position] ?? null);
  let encoded: Int32Array | Float32Array;
  try {
    encoded = predictor.preprocessor.encodeLabels(cells);
  } catch (error) {
    if (!(error instanceof ModelportError)) throw error;
    const known = predictor.task === "classification" ? ` (the model's classes: ${predictor.classes.join(", ")})` : "";
    throw invalid(`column '${predictor.labelColumn}': ${error.message}${known}`, "dataset");
  }
  return predictor.task === "classification"
    ? Array.from(encoded, (index) => predictor.preprocessor.decodeLabel(index) as Label)
    : Array.from(encoded);
}

async function predictInBatches(
  dataset: LoadedDataset,
  predictor: VersionPredictor,
  indices: readonly number[],
  batchSize: number,
): Promise<number[][] | number[]> {
  const positions = predictor.inputColumns.map((column) => [column, dataset.table.columns.indexOf(column)] as const);
  const out: (number[] | number)[] = [];
  for (let start = 0; start < indices.length; start += batchSize) {
    const rows = indices.slice(start, start + batchSize).map((row) => {
      const cells: Record<string, unknown> = {};
      for (const [column, position] of positions) cells[column] = dataset.table.rows[row]?.[position] ?? null;
      return cells;
    });
    out.push(...(await predictor.predict(rows)));
  }
  return out as number[][] | number[];
}

export async function evaluateVersion(options: EvaluateVersionOptions): Promise<VersionEvaluation> {
  const { registry, datasets, tenantId, model } = options;
  const split = options.split ?? "test";
  const batchSize = options.batchSize ?? 256;
  const version = await registry.resolve(model.name, model.version !== undefined ? String(model.version) : model.alias);
  const label = `${version.name} v${version.version}`;
  const artifact = await registry.open(version.name, version.version);
  const trainer = await readTrainerRecord(artifact.directory);
  const recordedDataset = version.lineage.dataset ?? trainer.dataset;
  const reference =
    options.dataset ??
    (recordedDataset === undefined ? undefined : { name: recordedDataset.name, version: recordedDataset.version });
  if (reference === undefined)
    throw invalid(`${label} records no dataset in its lineage: name one with --dataset`, "dataset");
  const dataset = await datasets.load(tenantId, reference.name, reference.version);
  const notes: string[] = [];

  // Columns first: a dataset that cannot feed the model fails before the engine loads.
  const described = readVersionModel(artifact);
  checkColumns(dataset, described, options.slice);
  const recordedSeed = version.lineage.splitSeed ?? trainer.seed;
  const seed = options.seed ?? recordedSeed ?? 42;
  let indices: number[];
  if (split === "all") indices = dataset.table.rows.map((_, row) => row);
  else {
    const fractions = splitFractions(version, trainer);
    const parts = splitVersion(dataset, {
      train: 1 - fractions.test - fractions.validation,
      validation: fractions.validation,
      test: fractions.test,
      seed,
    });
    indices = parts[split];
  }
  if (indices.length === 0)
    throw invalid(`the ${split} split of ${dataset.version.name} (${dataset.version.rowCount} rows) is empty`, "split");
  const sameData = recordedDataset !== undefined && recordedDataset.version === dataset.version.version;
  if (split !== "all" && recordedDataset !== undefined && !sameData)
    notes.push(
      `${label} was trained on ${recordedDataset.name}@${recordedDataset.version.slice(0, 12)}; the ${split} split of another dataset version may hold rows it was trained on`,
    );

  const yTrue = trueLabels(dataset, described, indices);
  const slices = options.slice === undefined ? undefined : sliceValues(dataset, options.slice, indices);
  const predictor = await openVersionPredictor(artifact, described);
  let predictions: number[][] | number[];
  try {
    predictions = await predictInBatches(dataset, predictor, indices, batchSize);
  } finally {
    await predictor.close();
  }
  let report: EvaluationReport;
  let bySlice: Slice<EvaluationReport>[] | undefined;
  if (described.task === "classification") {
    // Exactly the trainer's call: true labels, probability rows, the model's classes (yPred = argmax).
    const input = {
      yTrue: yTrue as Label[],
      probabilities: predictions as number[][],
      classes: described.classes,
    };
    report = evaluateClassification(input);
    if (slices !== undefined) bySlice = classificationBySlice(input, slices);
  } else {
    const input = { yTrue: yTrue as number[], yPred: predictions as number[] };
    report = evaluateRegression(input);
    if (slices !== undefined) bySlice = regressionBySlice(input, slices);
  }
  const sameTestSet = split === "test" && sameData && recordedSeed !== undefined && seed === recordedSeed;
  return {
    model: version.name,
    version: version.version,
    aliases: version.aliases,
    dataset: { name: dataset.version.name, version: dataset.version.version },
    split,
    seed: split === "all" ? null : seed,
    rows: indices.length,
    task: described.task,
    metrics: summarizeMetrics(report),
    report,
    registeredMetrics: sameTestSet && Object.keys(version.metrics).length > 0 ? version.metrics : null,
    ...(bySlice === undefined ? {} : { bySlice: { column: options.slice as string, slices: bySlice } }),
    notes,
  };
}
