import { ModelportError } from "../../core/errors.js";
import {
  type CategoricalSummary,
  createCategoricalCounter,
  DEFAULT_MAX_CATEGORIES,
  OTHER_CATEGORY,
} from "./categorical-counter.js";
import { type ColumnValues, createFeatureSink, type FeatureSink } from "./feature-sink.js";
import type { DerivedColumn, FeatureSpec } from "./features.js";
import { createNumericSketchBuilder, DEFAULT_MAX_SUPPORT, type NumericSummary } from "./numeric-sketch.js";

export const PROFILE_FORMAT = "modelport-drift-profile";

export interface PredictionSpec {
  name: string;
  type: "numeric" | "categorical";
}

export interface ProfileColumn extends DerivedColumn {
  role: "feature" | "prediction";
  summary: NumericSummary | CategoricalSummary;
}

/**
 * A reference profile: what drift detection keeps of a training split instead of the data.
 * Plain JSON (store it next to the model version). Numeric columns keep every distinct value with
 * its count up to `maxSupport` values (exact; in particular every reference of ≤ 1000 rows, the
 * range where Evidently uses KS, is kept exactly), weighted centroids beyond; categorical columns
 * keep category counts up to `maxCategories`; text keeps the `vocabularySize` most frequent words.
 */
export interface ReferenceProfile {
  format: typeof PROFILE_FORMAT;
  version: 1;
  rows: number;
  features: FeatureSpec[];
  prediction: PredictionSpec | null;
  options: { maxSupport: number; maxCategories: number; vocabularySize: number };
  columns: ProfileColumn[];
}

export interface ProfileOptions {
  features: FeatureSpec[];
  /** The model's output, tested like a feature (Evidently does the same). */
  prediction?: PredictionSpec;
  /** Distinct numeric values kept exactly per column (default 2048). */
  maxSupport?: number;
  /** Categories counted per column before folding into "<other>" (default 10,000). */
  maxCategories?: number;
  /** Words kept per text column (default 1000). */
  vocabularySize?: number;
}

export interface ProfileBuilder {
  /** One row: feature name → value (numbers, strings, pixel arrays); the prediction under its name. */
  addRow(row: Readonly<Record<string, unknown>>): void;
  /** Many rows as columns (typed arrays are the fast path). */
  addColumns(columns: Readonly<Record<string, ColumnValues>>): void;
  finish(): ReferenceProfile;
}

export function validateSpecs(features: readonly FeatureSpec[], prediction?: PredictionSpec): void {
  const names = new Set<string>();
  for (const spec of [...features, ...(prediction ? [prediction] : [])]) {
    if (!spec.name) throw new ModelportError("MP_INVALID_REQUEST", "a drift feature needs a name");
    if (names.has(spec.name)) {
      throw new ModelportError("MP_INVALID_REQUEST", `drift feature '${spec.name}' is listed twice`, {
        param: spec.name,
      });
    }
    if (!["numeric", "categorical", "text", "image"].includes(spec.type)) {
      throw new ModelportError("MP_INVALID_REQUEST", `drift feature '${spec.name}' has unknown type '${spec.type}'`, {
        param: spec.name,
      });
    }
    names.add(spec.name);
  }
}

/** Builds a reference profile from rows streamed through it (memory stays bounded per column). */
export function createProfileBuilder(options: ProfileOptions): ProfileBuilder {
  validateSpecs(options.features, options.prediction);
  const maxSupport = options.maxSupport ?? DEFAULT_MAX_SUPPORT;
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  const vocabularySize = options.vocabularySize ?? 1000;
  const finishers: (() => ProfileColumn)[] = [];
  const sinks = new Map<string, FeatureSink>();
  const specs: [FeatureSpec, ProfileColumn["role"]][] = options.features.map((spec) => [spec, "feature"]);
  if (options.prediction) specs.push([options.prediction, "prediction"]);
  for (const [spec, role] of specs) {
    sinks.set(
      spec.name,
      createFeatureSink(spec, {
        numeric(column) {
          const builder = createNumericSketchBuilder(maxSupport);
          finishers.push(() => ({ ...column, role, summary: builder.finish() }));
          return builder;
        },
        categorical(column) {
          // A vocabulary is counted in full and cut to its top words at the end.
          const vocabulary = column.derivation === "vocabulary";
          const counter = createCategoricalCounter(vocabulary ? Number.POSITIVE_INFINITY : maxCategories);
          finishers.push(() => {
            const summary = counter.finish();
            return { ...column, role, summary: vocabulary ? topCategories(summary, vocabularySize) : summary };
          });
          return counter;
        },
      }),
    );
  }
  let rows = 0;
  return {
    addRow(row) {
      rows++;
      for (const [name, sink] of sinks) sink.add(row[name]);
    },
    addColumns(columns) {
      let batchRows = -1;
      for (const [name, sink] of sinks) {
        const values = columns[name];
        if (values === undefined) {
          throw new ModelportError("MP_INVALID_REQUEST", `column batch has no column '${name}'`, { param: name });
        }
        const length = "codes" in values ? values.codes.length : values.length;
        if (batchRows >= 0 && length !== batchRows) {
          throw new ModelportError("MP_INVALID_REQUEST", `column '${name}' has ${length} rows, expected ${batchRows}`);
        }
        batchRows = length;
        sink.addColumn(values);
      }
      rows += Math.max(batchRows, 0);
    },
    finish: () => ({
      format: PROFILE_FORMAT,
      version: 1,
      rows,
      features: options.features.map((spec) => ({ ...spec })),
      prediction: options.prediction ? { ...options.prediction } : null,
      options: { maxSupport, maxCategories, vocabularySize },
      columns: finishers.map((finish) => finish()),
    }),
  };
}

function topCategories(summary: CategoricalSummary, keep: number): CategoricalSummary {
  const entries = Object.entries(summary.counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length <= keep) return summary;
  const counts: Record<string, number> = Object.fromEntries(entries.slice(0, keep));
  let other = 0;
  for (const [, count] of entries.slice(keep)) other += count;
  counts[OTHER_CATEGORY] = (counts[OTHER_CATEGORY] ?? 0) + other;
  // Folding the tail is by design here (every window folds the same words), so still "exact".
  return { ...summary, counts };
}

/** Checks that parsed JSON is a profile this version understands. */
export function parseReferenceProfile(value: unknown): ReferenceProfile {
  const profile = value as Partial<ReferenceProfile> | null;
  if (!profile || profile.format !== PROFILE_FORMAT || profile.version !== 1 || !Array.isArray(profile.columns)) {
    throw new ModelportError("MP_INVALID_REQUEST", "not a modelport drift profile (format/version 1)");
  }
  return profile as ReferenceProfile;
}
