import type * as tf from "@tensorflow/tfjs-core";
import { ModelportError } from "../../core/errors.js";
import type { OipDatatype, OipInferRequest, OipTensor } from "../../core/oip-types.js";
import { validateTensor } from "../../core/tensors.js";

/**
 * Translation between OIP v2 tensors and a tfjs model's inputs and outputs: request checks
 * (names, shapes, value ranges) that turn into clear MP_INVALID_REQUEST errors before any tensor
 * is allocated, and typed data ready for `tf.tensor`.
 */

export interface TensorSlot {
  name: string;
  datatype: OipDatatype;
  dtype: "float32" | "int32" | "bool";
  /** Model shape, `null` for variable dimensions (the batch, usually). */
  shape: (number | null)[];
}

export const datatypeOf: Record<string, { datatype: OipDatatype; dtype: TensorSlot["dtype"] }> = {
  float32: { datatype: "FP32", dtype: "float32" },
  int32: { datatype: "INT32", dtype: "int32" },
  bool: { datatype: "BOOL", dtype: "bool" },
};

const float32Max = 3.4028234663852886e38;
const int32Range: [number, number] = [-2_147_483_648, 2_147_483_647];

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((dim) => dim ?? -1).join(",")}]`;
}

/** Checks one request tensor against the model input it feeds; returns typed data for tf.tensor. */
function toModelData(tensor: OipTensor, slot: TensorSlot, param: string): Float32Array | Int32Array | Uint8Array {
  if (tensor.datatype === "BYTES")
    throw invalid(`${param} ("${slot.name}") is BYTES but the model expects ${slot.datatype}`, `${param}.datatype`);
  const rankMatches = tensor.shape.length === slot.shape.length;
  const badDim = slot.shape.findIndex((dim, index) => dim !== null && tensor.shape[index] !== dim);
  if (!rankMatches || badDim >= 0) {
    const detail = rankMatches
      ? `dimension ${badDim}: expected ${slot.shape[badDim]}, got ${tensor.shape[badDim]}`
      : `expected ${slot.shape.length} dimensions, got ${tensor.shape.length}`;
    throw invalid(
      `${param} ("${slot.name}") has shape ${formatShape(tensor.shape)} but the model expects ${formatShape(slot.shape)} (${detail})`,
      `${param}.shape`,
    );
  }
  // tfjs's predict cannot run an empty batch (it concatenates per-batch results), so say so here.
  if (tensor.shape.includes(0))
    throw invalid(
      `${param} ("${slot.name}") has shape ${formatShape(tensor.shape)}, which holds no values`,
      `${param}.shape`,
    );
  const values = tensor.data.map((value) => (typeof value === "boolean" ? Number(value) : (value as number)));
  if (slot.dtype === "float32") {
    const outOfRange = values.findIndex((value) => Math.abs(value) > float32Max);
    if (outOfRange >= 0) throw invalid(`${param}.data[${outOfRange}] does not fit in FP32`, `${param}.data`);
    return Float32Array.from(values);
  }
  const notInteger = values.findIndex(
    (value) => !Number.isInteger(value) || value < int32Range[0] || value > int32Range[1],
  );
  if (notInteger >= 0)
    throw invalid(
      `${param}.data[${notInteger}] is not a valid ${slot.datatype} value for "${slot.name}"`,
      `${param}.data`,
    );
  return slot.dtype === "int32" ? Int32Array.from(values) : Uint8Array.from(values, (value) => (value === 0 ? 0 : 1));
}

/** Matches request inputs to model inputs by name, in model order. */
export function prepareInputs(request: OipInferRequest, inputs: TensorSlot[]) {
  if (typeof request !== "object" || request === null || !Array.isArray(request.inputs))
    throw invalid("inputs must be an array of tensors", "inputs");
  const byName = new Map<string, { tensor: OipTensor; param: string }>();
  request.inputs.forEach((raw, index) => {
    const param = `inputs.${index}`;
    const tensor = validateTensor(raw, param);
    if (byName.has(tensor.name)) throw invalid(`input "${tensor.name}" is given more than once`, `${param}.name`);
    if (!inputs.some((slot) => slot.name === tensor.name))
      throw invalid(
        `unknown input "${tensor.name}"; the model takes ${inputs.map((slot) => `"${slot.name}"`).join(", ")}`,
        `${param}.name`,
      );
    byName.set(tensor.name, { tensor, param });
  });
  let batch: { size: number | undefined; from: string } | undefined;
  return inputs.map((slot) => {
    const given = byName.get(slot.name);
    if (!given) throw invalid(`missing input "${slot.name}" (${slot.datatype} ${formatShape(slot.shape)})`, "inputs");
    const data = toModelData(given.tensor, slot, given.param);
    // tfjs needs every input to carry the same batch size; say which ones disagree.
    const size = given.tensor.shape[0];
    if (batch && batch.size !== size)
      throw invalid(
        `inputs "${batch.from}" and "${slot.name}" have different batch sizes (${batch.size} and ${size})`,
        `${given.param}.shape`,
      );
    batch ??= { size, from: slot.name };
    return { slot, data, shape: given.tensor.shape };
  });
}

/** Indices of the outputs to return: all of them, or those `request.outputs` names. */
export function selectOutputs(request: OipInferRequest, outputs: TensorSlot[]): number[] {
  if (request.outputs === undefined || request.outputs === null) return outputs.map((_, index) => index);
  if (!Array.isArray(request.outputs)) throw invalid("outputs must be an array", "outputs");
  if (request.outputs.length === 0) return outputs.map((_, index) => index);
  const selected: number[] = [];
  request.outputs.forEach((wanted, position) => {
    const name = (wanted as { name?: unknown } | null)?.name;
    const index = outputs.findIndex((slot) => slot.name === name);
    if (index < 0)
      throw invalid(
        `unknown output "${String(name)}"; the model produces ${outputs.map((slot) => `"${slot.name}"`).join(", ")}`,
        `outputs.${position}.name`,
      );
    if (!selected.includes(index)) selected.push(index);
  });
  return selected;
}

export function toOipData(values: tf.TypedArray | string[] | Uint8Array[], dtype: string): OipTensor["data"] {
  if (dtype === "bool") return Array.from(values as Uint8Array, (value) => value !== 0);
  return Array.from(values as tf.TypedArray);
}
