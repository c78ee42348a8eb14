import { ModelportError } from "../../core/errors.js";
import {
  type ClassificationInput,
  type ClassificationReport,
  evaluateClassification,
  evaluateRegression,
  type RegressionReport,
} from "./evaluate.js";
import { compareLabels, type Label, uniqueLabels } from "./labels.js";

/** A slice column's cell: missing values (null/undefined) form their own slice. */
export type SliceValue = string | number | boolean | null | undefined;

export interface Slice<T> {
  /** The slice column's value; null for missing. */
  value: string | number | boolean | null;
  count: number;
  metrics: T;
}

function sliceKey(value: SliceValue): string {
  if (value === null || value === undefined) return "missing";
  return `${typeof value}:${String(value)}`;
}

/**
 * Groups row indices by the value of a slice column, in a stable order: values sorted (numbers
 * ascending, strings by code point, booleans false first), missing last.
 */
export function groupBySlice(values: readonly SliceValue[]): { value: Slice<unknown>["value"]; indices: number[] }[] {
  const groups = new Map<string, { value: Slice<unknown>["value"]; indices: number[] }>();
  values.forEach((value, i) => {
    const key = sliceKey(value);
    let group = groups.get(key);
    if (group === undefined) {
      group = { value: value ?? null, indices: [] };
      groups.set(key, group);
    }
    group.indices.push(i);
  });
  const rank = (value: Slice<unknown>["value"]) =>
    value === null ? 3 : typeof value === "boolean" ? 2 : typeof value === "string" ? 1 : 0;
  return [...groups.values()].sort((a, b) => {
    const difference = rank(a.value) - rank(b.value);
    if (difference !== 0) return difference;
    if (a.value === null || b.value === null) return 0;
    if (typeof a.value === "boolean") return Number(a.value) - Number(b.value);
    return compareLabels(a.value as Label, b.value as Label);
  });
}

function pick<T>(array: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => array[i] as T);
}

/**
 * The classification metric set per slice. Every slice is scored against the model's full class
 * list, so probability columns keep their meaning; metrics undefined in a slice (ROC AUC when
 * the slice holds one class) come back null with a warning instead of failing the whole report.
 */
export function classificationBySlice(
  input: ClassificationInput,
  sliceValues: readonly SliceValue[],
): Slice<ClassificationReport>[] {
  if (sliceValues.length !== input.yTrue.length) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `the slice column has ${sliceValues.length} values but there are ${input.yTrue.length} samples`,
      { param: "slice" },
    );
  }
  const classes = input.classes ?? uniqueLabels(input.yTrue, input.yPred ?? []);
  return groupBySlice(sliceValues).map(({ value, indices }) => ({
    value,
    count: indices.length,
    metrics: evaluateClassification({
      ...input,
      classes,
      yTrue: pick(input.yTrue, indices),
      ...(input.yPred === undefined ? {} : { yPred: pick(input.yPred, indices) }),
      ...(input.probabilities === undefined ? {} : { probabilities: pick(input.probabilities, indices) }),
    }),
  }));
}

export function regressionBySlice(
  input: { yTrue: readonly number[]; yPred: readonly number[] },
  sliceValues: readonly SliceValue[],
): Slice<RegressionReport>[] {
  if (sliceValues.length !== input.yTrue.length) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `the slice column has ${sliceValues.length} values but there are ${input.yTrue.length} samples`,
      { param: "slice" },
    );
  }
  return groupBySlice(sliceValues).map(({ value, indices }) => ({
    value,
    count: indices.length,
    metrics: evaluateRegression({ yTrue: pick(input.yTrue, indices), yPred: pick(input.yPred, indices) }),
  }));
}
