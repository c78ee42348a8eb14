import { ModelportError } from "../../core/errors.js";
import { type AnchoredSnapshot, createAnchoredAccumulator } from "./anchored-accumulator.js";
import { type CategoricalSummary, createCategoricalCounter, OTHER_CATEGORY } from "./categorical-counter.js";
import { type ColumnValues, createFeatureSink, type FeatureSink } from "./feature-sink.js";
import type { ReferenceProfile } from "./profile.js";

export const WINDOW_FORMAT = "modelport-drift-window";

export interface WindowColumn {
  name: string;
  summary: AnchoredSnapshot | CategoricalSummary;
}

/** A live window's summaries (JSON), comparable with the reference it was made for. */
export interface WindowProfile {
  format: typeof WINDOW_FORMAT;
  version: 1;
  rows: number;
  columns: WindowColumn[];
}

export interface DriftWindow {
  /** One request's features (and prediction) by name, as the reference profile lists them. */
  addRow(row: Readonly<Record<string, unknown>>): void;
  addColumns(columns: Readonly<Record<string, ColumnValues>>): void;
  readonly rows: number;
  snapshot(): WindowProfile;
}

/**
 * A window of live traffic for one endpoint and model version, accumulated against that version's
 * reference profile: numeric columns are binned on the reference's support points (see
 * anchored-accumulator.ts), categorical columns counted (vocabulary words outside the reference's
 * vocabulary count as "<other>"). Cost per row: one binary search per numeric column, one map
 * update per category. `restore` continues from a stored snapshot.
 */
export function createDriftWindow(reference: ReferenceProfile, restore?: WindowProfile): DriftWindow {
  const snapshots: (() => WindowColumn)[] = [];
  const byName = new Map(reference.columns.map((column) => [column.name, column]));
  const restored = new Map((restore?.columns ?? []).map((column) => [column.name, column.summary]));
  const sinks = new Map<string, FeatureSink>();
  const specs = [...reference.features, ...(reference.prediction ? [reference.prediction] : [])];
  for (const spec of specs) {
    sinks.set(
      spec.name,
      createFeatureSink(spec, {
        numeric(column) {
          const summary = byName.get(column.name)?.summary;
          if (summary?.kind !== "numeric") throw profileMismatch(column.name);
          const previous = restored.get(column.name);
          const accumulator = createAnchoredAccumulator(
            Float64Array.from(summary.support.values),
            previous?.kind === "numeric" ? previous : undefined,
          );
          snapshots.push(() => ({ name: column.name, summary: accumulator.snapshot() }));
          return accumulator;
        },
        categorical(column) {
          const summary = byName.get(column.name)?.summary;
          if (summary?.kind !== "categorical") throw profileMismatch(column.name);
          const known =
            column.derivation === "vocabulary"
              ? new Set(Object.keys(summary.counts).filter((key) => key !== OTHER_CATEGORY))
              : undefined;
          const counter = createCategoricalCounter(reference.options.maxCategories, known);
          const previous = restored.get(column.name);
          if (previous?.kind === "categorical") {
            for (const [key, count] of Object.entries(previous.counts)) counter.add(key, count);
            counter.addMissing(previous.missing);
          }
          snapshots.push(() => ({ name: column.name, summary: counter.finish() }));
          return counter;
        },
      }),
    );
  }
  let rows = restore?.rows ?? 0;
  return {
    addRow(row) {
      rows++;
      for (const [name, sink] of sinks) sink.add(row[name]);
    },
    addColumns(columns) {
      let batchRows = 0;
      for (const [name, sink] of sinks) {
        const values = columns[name];
        if (values === undefined) {
          throw new ModelportError("MP_INVALID_REQUEST", `column batch has no column '${name}'`, { param: name });
        }
        batchRows = "codes" in values ? values.codes.length : values.length;
        sink.addColumn(values);
      }
      rows += batchRows;
    },
    get rows() {
      return rows;
    },
    snapshot: () => ({ format: WINDOW_FORMAT, version: 1, rows, columns: snapshots.map((take) => take()) }),
  };
}

function profileMismatch(name: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", `reference profile has no usable column '${name}'`, { param: name });
}
