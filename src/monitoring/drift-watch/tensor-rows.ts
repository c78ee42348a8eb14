import type { OipTensor } from "../../core/oip-types.js";
import type { ReferenceProfile } from "../drift/index.js";

/** What the OIP v2 infer path hands over once a prediction succeeded (no copies are made). */
export interface PredictObservation {
  endpoint: string;
  /** The target that answered, e.g. `registry/spam-filter@production`. */
  target: string;
  /** The response's `model_version` (the registry version number, as a string). */
  modelVersion: string | undefined;
  inputs: readonly OipTensor[];
  outputs: readonly OipTensor[];
}

/** Upper bound on rows taken from one request, so one huge batch cannot stall the request path. */
export const MAX_ROWS_PER_REQUEST = 4096;

const ELEMENT = /^(.+)\[(\d+)\]$/;

function named(tensors: readonly OipTensor[], name: string): OipTensor | undefined {
  for (const tensor of tensors) if (tensor.name === name) return tensor;
  return undefined;
}

/**
 * One row per request item, keyed like the profile's columns: row i of each input tensor named
 * after a feature ([N] tensors give scalars, [N, ...] tensors the item's slice, e.g. an image's
 * pixels; a [N, 1] slice is unwrapped for numeric and categorical features), and row i of the
 * output named after the prediction. A name `NAME[j]` with no tensor of that exact name reads
 * element j of each row of tensor NAME (a CSV reference for a model taking one [N, k] tensor, or
 * `probabilities[1]` as a prediction). Tensors the profile does not name are ignored; a feature
 * whose tensor is absent is missing in every row.
 */
export function rowsFromTensors(profile: ReferenceProfile, observation: PredictObservation): Record<string, unknown>[] {
  const first = observation.inputs[0];
  const count = Math.min(first?.shape[0] ?? 0, MAX_ROWS_PER_REQUEST);
  if (count <= 0) return [];
  const columns: { name: string; cell: (row: number) => unknown }[] = [];
  const add = (name: string, tensors: readonly OipTensor[], wholeSlice: boolean) => {
    let tensor = named(tensors, name);
    let element: number | undefined;
    if (tensor === undefined) {
      const indexed = ELEMENT.exec(name);
      if (indexed === null) return;
      tensor = named(tensors, indexed[1] as string);
      element = Number(indexed[2]);
    }
    if (tensor === undefined || (tensor.shape[0] ?? 0) < count) return;
    let width = 1;
    for (let axis = 1; axis < tensor.shape.length; axis++) width *= tensor.shape[axis] as number;
    const data = tensor.data;
    if (element !== undefined) {
      const at = element;
      if (at < width) columns.push({ name, cell: (row) => data[row * width + at] });
    } else if (tensor.shape.length === 1 || (width === 1 && !wholeSlice))
      columns.push({ name, cell: (row) => data[row * width] });
    else columns.push({ name, cell: (row) => data.slice(row * width, (row + 1) * width) });
  };
  for (const feature of profile.features) add(feature.name, observation.inputs, feature.type === "image");
  if (profile.prediction) add(profile.prediction.name, observation.outputs, false);
  const rows: Record<string, unknown>[] = new Array(count);
  for (let row = 0; row < count; row++) {
    const values: Record<string, unknown> = {};
    for (const column of columns) values[column.name] = column.cell(row);
    rows[row] = values;
  }
  return rows;
}
