import { ModelportError } from "../../core/errors.js";
import type { DataTable } from "../datasets/types.js";
import { type CompiledStep, compileStep } from "./compile.js";
import { columnGetter, fitLabel, fitStep, type PreprocessingConfig } from "./fit.js";
import { type LabelSpec, type PreprocessorSpec, preprocessingFormat, preprocessorSpecSchema } from "./spec.js";

export interface Segment {
  column: string;
  kind: string;
  /** First feature index of this column in a transformed row. */
  offset: number;
  width: number;
}

/**
 * A fitted preprocessor: raw rows in, a row-major Float32Array [rows × width] out. The same
 * object (or its JSON, reloaded) serves training and inference.
 */
export interface Preprocessor {
  readonly spec: PreprocessorSpec;
  /** Features per transformed row. */
  readonly width: number;
  /** Where each input column lands in a row (e.g. a sequence block for an embedding layer). */
  readonly segments: readonly Segment[];
  /** Raw input columns, in step order (what an inference request must carry). */
  readonly inputColumns: readonly string[];
  /** Rows as objects keyed by column name (inference); missing keys are missing values. */
  transform(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Float32Array;
  /** Rows of a dataset table, optionally only `indices` (a split), in that order. */
  transformTable(table: DataTable, indices?: readonly number[]): Float32Array;
  /** Classification: class indices (into spec.label.classes); regression: the numbers. */
  encodeLabels(values: readonly unknown[]): Int32Array | Float32Array;
  labelsOf(table: DataTable, indices?: readonly number[]): Int32Array | Float32Array;
  /** Class index → class value. */
  decodeLabel(index: number): string | number;
  toJSON(): PreprocessorSpec;
}

function createPreprocessor(spec: PreprocessorSpec): Preprocessor {
  const compiled: CompiledStep[] = spec.steps.map(compileStep);
  const segments: Segment[] = [];
  let width = 0;
  for (const step of compiled) {
    segments.push({ column: step.spec.column, kind: step.spec.kind, offset: width, width: step.width });
    width += step.width;
  }
  if (width === 0) throw new ModelportError("MP_INVALID_REQUEST", "the preprocessor produces no features");
  const label: LabelSpec | null = spec.label;
  const classIndex = new Map<string, number>();
  if (label?.task === "classification") {
    label.classes.forEach((value, i) => {
      classIndex.set(`${typeof value}:${value}`, i);
    });
  }

  const run = (count: number, cellOf: (row: number, step: number) => unknown): Float32Array => {
    const out = new Float32Array(count * width);
    for (let row = 0; row < count; row++) {
      const base = row * width;
      for (let s = 0; s < compiled.length; s++) {
        const step = compiled[s] as CompiledStep;
        (step as CompiledStep).write(cellOf(row, s), out, base + (segments[s] as Segment).offset);
      }
    }
    return out;
  };

  const encodeLabels = (values: readonly unknown[]): Int32Array | Float32Array => {
    if (label === null) throw new ModelportError("MP_INVALID_REQUEST", "this preprocessor has no label");
    if (label.task === "regression") {
      return Float32Array.from(values, (value, i) => {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new ModelportError("MP_INVALID_REQUEST", `label ${i} is not a number: ${JSON.stringify(value)}`);
        }
        return value;
      });
    }
    return Int32Array.from(values, (value, i) => {
      let index = classIndex.get(`${typeof value}:${String(value)}`);
      if (index === undefined && typeof value === "string") index = classIndex.get(`number:${Number(value)}`);
      if (index === undefined) {
        throw new ModelportError("MP_INVALID_REQUEST", `label ${i} is not a known class: ${JSON.stringify(value)}`);
      }
      return index;
    });
  };

  const preprocessor: Preprocessor = {
    spec,
    width,
    segments,
    inputColumns: [...new Set(spec.steps.map((step) => step.column))],
    transform(rows) {
      return run(rows.length, (row, s) => (rows[row] as Record<string, unknown>)[(segments[s] as Segment).column]);
    },
    transformTable(table, indices) {
      const positions = segments.map((segment) => {
        const index = table.columns.indexOf(segment.column);
        if (index < 0) {
          throw new ModelportError("MP_INVALID_REQUEST", `the table has no column '${segment.column}'`, {
            param: segment.column,
          });
        }
        return index;
      });
      const count = indices?.length ?? table.rows.length;
      return run(
        count,
        (row, s) => table.rows[indices === undefined ? row : (indices[row] as number)]?.[positions[s] as number],
      );
    },
    encodeLabels,
    labelsOf(table, indices) {
      if (label === null) throw new ModelportError("MP_INVALID_REQUEST", "this preprocessor has no label");
      const get = columnGetter(table, label.column);
      const rows = indices ?? table.rows.map((_, i) => i);
      return encodeLabels(rows.map((row) => get(row)));
    },
    decodeLabel(index) {
      if (label?.task !== "classification")
        throw new ModelportError("MP_INVALID_REQUEST", "this preprocessor has no classes");
      const value = label.classes[index];
      if (value === undefined) throw new ModelportError("MP_INVALID_REQUEST", `class index ${index} is out of range`);
      return value;
    },
    toJSON: () => structuredClone(spec),
  };
  return preprocessor;
}

/**
 * Fits every step on the training rows only (`trainIndices`, default all rows), so no statistic
 * of the validation or test split leaks into the model.
 */
export function fitPreprocessor(
  table: DataTable,
  config: PreprocessingConfig,
  trainIndices?: readonly number[],
): Preprocessor {
  const rows = trainIndices ?? table.rows.map((_, i) => i);
  if (rows.length === 0) throw new ModelportError("MP_INVALID_REQUEST", "cannot fit preprocessing on zero rows");
  if (config.steps.length === 0)
    throw new ModelportError("MP_INVALID_REQUEST", "preprocessing needs at least one step");
  const steps = config.steps.map((step) => fitStep(step, columnGetter(table, step.column), rows));
  const label = config.label == null ? null : fitLabel(config.label, columnGetter(table, config.label.column), rows);
  const spec: PreprocessorSpec = { format: preprocessingFormat, steps, label };
  if (config.augmentation !== undefined) spec.augmentation = config.augmentation;
  return createPreprocessor(spec);
}

/** Rebuilds a preprocessor from its saved JSON, validating it (a bad file fails here, not mid-request). */
export function loadPreprocessor(json: unknown): Preprocessor {
  let value = json;
  if (typeof json === "string") {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new ModelportError("MP_INVALID_REQUEST", "not a saved preprocessor: invalid JSON", { cause: error });
    }
  }
  const parsed = preprocessorSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
    throw new ModelportError("MP_INVALID_REQUEST", `not a saved preprocessor${where}`, { cause: parsed.error });
  }
  return createPreprocessor(parsed.data);
}
