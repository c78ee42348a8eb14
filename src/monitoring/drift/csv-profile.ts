import { ModelportError } from "../../core/errors.js";
import { MISSING_TOKENS, readCsvTable } from "./csv-columns.js";
import type { FeatureSpec, FeatureType } from "./features.js";
import { createProfileBuilder, type PredictionSpec, type ReferenceProfile } from "./profile.js";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const WHITESPACE = /\s/;

export interface CsvProfileOptions {
  /** The column holding the model's outputs on these rows (tested like a feature, named like the output). */
  predictionColumn?: string;
  /** Without `predictionColumn`: the first of these names the CSV has is the prediction (e.g. the model's outputs). */
  predictionCandidates?: readonly string[];
}

/**
 * A column's type from its values: numeric when every non-missing value is a decimal number (as
 * `modelport drift` decides), text when most values contain whitespace (free text, tested by
 * length and vocabulary), categorical otherwise. Images cannot come from a CSV.
 */
export function inferCsvColumnType(values: readonly string[]): Exclude<FeatureType, "image"> {
  const present = values.filter((value) => !MISSING_TOKENS.has(value));
  if (present.length > 0 && present.every((value) => NUMBER.test(value))) return "numeric";
  const spaced = present.filter((value) => WHITESPACE.test(value)).length;
  return present.length > 0 && spaced * 2 > present.length ? "text" : "categorical";
}

/**
 * A reference profile from a CSV of reference rows (for models registered without one, e.g. an
 * external ONNX file): every column is a feature named like the model input it feeds, except the
 * prediction column. The rows are read once and not kept.
 */
export async function profileFromCsv(path: string, options: CsvProfileOptions = {}): Promise<ReferenceProfile> {
  const table = await readCsvTable(path, "reference");
  const predictionColumn =
    options.predictionColumn ?? options.predictionCandidates?.find((name) => table.columns.has(name));
  if (predictionColumn !== undefined && !table.columns.has(predictionColumn))
    throw new ModelportError("MP_INVALID_REQUEST", `reference file ${path} has no column '${predictionColumn}'`, {
      param: "predictionColumn",
    });
  const typeOf = (name: string) => inferCsvColumnType(table.columns.get(name) ?? []);
  const features: FeatureSpec[] = table.header
    .filter((name) => name !== predictionColumn)
    .map((name) => ({ name, type: typeOf(name) }));
  if (features.length === 0)
    throw new ModelportError("MP_INVALID_REQUEST", `reference file ${path} has no feature columns`);
  let prediction: PredictionSpec | undefined;
  if (predictionColumn !== undefined)
    prediction = { name: predictionColumn, type: typeOf(predictionColumn) === "numeric" ? "numeric" : "categorical" };
  const builder = createProfileBuilder({ features, ...(prediction ? { prediction } : {}) });
  const cell = (name: string, row: number, type: FeatureType) => {
    const value = table.columns.get(name)?.[row] ?? "";
    if (MISSING_TOKENS.has(value)) return undefined;
    return type === "numeric" ? Number(value) : value;
  };
  const specs: { name: string; type: FeatureType }[] = [...features, ...(prediction ? [prediction] : [])];
  for (let row = 0; row < table.rows; row++) {
    const values: Record<string, unknown> = {};
    for (const spec of specs) values[spec.name] = cell(spec.name, row, spec.type);
    builder.addRow(values);
  }
  return builder.finish();
}
