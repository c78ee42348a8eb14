import { ModelportError } from "../../core/errors.js";
import type { ColumnSchema, DatasetSchema, DataTable } from "../datasets/types.js";
import { compareLabels, type Label } from "../evaluation/labels.js";
import type { AugmentationOptions, LabelSpec, StepSpec } from "./spec.js";
import { tokenize } from "./tokenizer.js";

/** How to fit one input column. Every statistic is computed on the rows passed in (the training split). */
export type StepConfig =
  | { kind: "standard" | "min-max" | "passthrough"; column: string }
  | { kind: "one-hot"; column: string; unknown?: "ignore" | "error"; maxCategories?: number }
  | { kind: "ordinal"; column: string; unknownValue?: number | null }
  | {
      kind: "bag-of-words";
      column: string;
      /** Keep the K terms with the highest document frequency (default 10,000). */
      maxTokens?: number;
      minDocumentFrequency?: number;
      mode?: "count" | "binary" | "tf-idf";
    }
  | {
      kind: "sequence";
      column: string;
      maxTokens?: number;
      minDocumentFrequency?: number;
      length: number;
      padding?: "pre" | "post";
      truncating?: "pre" | "post";
    }
  | { kind: "image"; column: string; shape: number[]; scale?: number };

export interface PreprocessingConfig {
  steps: StepConfig[];
  /** Label column; its classes (sorted as sklearn sorts) or numeric target are saved too. */
  label?: { column: string; task: "classification" | "regression" } | null;
  augmentation?: AugmentationOptions;
}

type Getter = (row: number) => unknown;

function invalid(message: string, param?: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, param === undefined ? {} : { param });
}

function numbers(get: Getter, rows: readonly number[], column: string): number[] {
  const values: number[] = [];
  for (const row of rows) {
    const cell = get(row);
    if (cell === null || cell === undefined) continue;
    if (typeof cell !== "number" || !Number.isFinite(cell)) {
      throw invalid(`column '${column}' is scaled as numeric but holds ${JSON.stringify(cell)}`, column);
    }
    values.push(cell);
  }
  if (values.length === 0) throw invalid(`column '${column}' has no values in the training rows`, column);
  return values;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function categoryCounts(get: Getter, rows: readonly number[]): Map<string, { value: Label; count: number }> {
  const counts = new Map<string, { value: Label; count: number }>();
  for (const row of rows) {
    const cell = get(row);
    if (typeof cell !== "string" && typeof cell !== "number") continue;
    const key = `${typeof cell}:${cell}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { value: cell, count: 1 });
    else entry.count++;
  }
  return counts;
}

/** Numbers before strings, each in sklearn's order. */
function sortCategories(values: Label[]): Label[] {
  return values.sort((a, b) => (typeof a === typeof b ? compareLabels(a, b) : typeof a === "number" ? -1 : 1));
}

/** Top-K terms by document frequency (ties: alphabetical), among terms in ≥ minDf documents. */
function fitVocabulary(
  get: Getter,
  rows: readonly number[],
  maxTokens: number,
  minDf: number,
): { vocabulary: string[]; df: number[] } {
  const documentFrequency = new Map<string, number>();
  for (const row of rows) {
    const cell = get(row);
    const text = typeof cell === "string" ? cell : cell === null || cell === undefined ? "" : String(cell);
    for (const term of new Set(tokenize(text))) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  const ranked = [...documentFrequency.entries()]
    .filter(([, df]) => df >= minDf)
    .sort(([a, dfA], [b, dfB]) => dfB - dfA || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxTokens);
  return { vocabulary: ranked.map(([term]) => term), df: ranked.map(([, df]) => df) };
}

export function fitStep(config: StepConfig, get: Getter, rows: readonly number[]): StepSpec {
  const { column } = config;
  switch (config.kind) {
    case "standard": {
      const values = numbers(get, rows, column);
      const average = mean(values);
      let squares = 0;
      for (const value of values) squares += (value - average) ** 2;
      const deviation = Math.sqrt(squares / values.length);
      return { kind: "standard", column, mean: average, scale: deviation === 0 ? 1 : deviation };
    }
    case "min-max": {
      const values = numbers(get, rows, column);
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const value of values) {
        if (value < min) min = value;
        if (value > max) max = value;
      }
      return { kind: "min-max", column, min, range: max - min === 0 ? 1 : max - min, fill: mean(values) };
    }
    case "passthrough":
      return { kind: "passthrough", column, fill: mean(numbers(get, rows, column)) };
    case "one-hot": {
      let entries = [...categoryCounts(get, rows).values()];
      if (config.maxCategories !== undefined) {
        // The most frequent categories; the rest encode as unknown (all zeros).
        entries = entries.sort((a, b) => b.count - a.count).slice(0, config.maxCategories);
      }
      const categories = sortCategories(entries.map((entry) => entry.value));
      if (categories.length === 0) throw invalid(`column '${column}' has no categories in the training rows`, column);
      return { kind: "one-hot", column, categories, unknown: config.unknown ?? "ignore" };
    }
    case "ordinal": {
      const categories = sortCategories([...categoryCounts(get, rows).values()].map((entry) => entry.value));
      return {
        kind: "ordinal",
        column,
        categories,
        unknownValue: config.unknownValue === undefined ? -1 : config.unknownValue,
      };
    }
    case "bag-of-words": {
      const mode = config.mode ?? "tf-idf";
      const { vocabulary, df } = fitVocabulary(get, rows, config.maxTokens ?? 10_000, config.minDocumentFrequency ?? 1);
      if (vocabulary.length === 0) throw invalid(`column '${column}' has no tokens in the training rows`, column);
      const spec: StepSpec = { kind: "bag-of-words", column, vocabulary, mode };
      if (mode === "tf-idf") spec.idf = df.map((count) => Math.log((1 + rows.length) / (1 + count)) + 1);
      return spec;
    }
    case "sequence": {
      const { vocabulary } = fitVocabulary(get, rows, config.maxTokens ?? 10_000, config.minDocumentFrequency ?? 1);
      if (!Number.isInteger(config.length) || config.length < 1)
        throw invalid("sequence length must be a positive integer", column);
      return {
        kind: "sequence",
        column,
        vocabulary,
        length: config.length,
        padding: config.padding ?? "post",
        truncating: config.truncating ?? "post",
      };
    }
    case "image":
      return { kind: "image", column, shape: [...config.shape], scale: config.scale ?? 1 };
    default:
      throw invalid(`unknown preprocessing step ${JSON.stringify((config as { kind: unknown }).kind)}`);
  }
}

export function fitLabel(
  label: NonNullable<PreprocessingConfig["label"]>,
  get: Getter,
  rows: readonly number[],
): LabelSpec {
  if (label.task === "regression") return { column: label.column, task: "regression" };
  const classes = sortCategories([...categoryCounts(get, rows).values()].map((entry) => entry.value));
  if (classes.some((value) => typeof value !== typeof classes[0])) {
    throw invalid(`the label column '${label.column}' mixes numbers and strings`, "label");
  }
  if (classes.length < 2)
    throw invalid(`the label column '${label.column}' needs at least two classes in the training rows`, "label");
  return { column: label.column, task: "classification", classes };
}

export interface DefaultStepOptions {
  /** Vocabulary size for text columns (default 10,000). */
  maxTokens?: number;
  /** Minimum document frequency for text terms (default 2). */
  minDocumentFrequency?: number;
}

/**
 * A sensible preprocessing for a schema: numeric → standard scaling, categorical → one-hot
 * (unknown ignored), text → tf-idf bag of words, image → scaled to [0, 1]. The label is excluded.
 */
export function defaultPreprocessing(schema: DatasetSchema, options: DefaultStepOptions = {}): PreprocessingConfig {
  const steps = schema.columns
    .filter((column) => column.role !== "label")
    .map((column: ColumnSchema): StepConfig => {
      switch (column.type) {
        case "numeric":
          return { kind: "standard", column: column.name };
        case "categorical":
          return { kind: "one-hot", column: column.name, unknown: "ignore" };
        case "text":
          return {
            kind: "bag-of-words",
            column: column.name,
            mode: "tf-idf",
            maxTokens: options.maxTokens ?? 10_000,
            minDocumentFrequency: options.minDocumentFrequency ?? 2,
          };
        default:
          return {
            kind: "image",
            column: column.name,
            shape: column.shape ?? [],
            scale: column.pixelRange?.[1] === 255 ? 1 / 255 : 1,
          };
      }
    });
  const label = schema.label === null || schema.task === null ? null : { column: schema.label, task: schema.task };
  return { steps, label };
}

export function columnGetter(table: DataTable, column: string): Getter {
  const index = table.columns.indexOf(column);
  if (index < 0) throw invalid(`no column '${column}' in the dataset`, column);
  return (row) => table.rows[row]?.[index];
}
