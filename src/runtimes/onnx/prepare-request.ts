import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipTensor } from "../../core/oip-types.js";
import { validateTensor } from "../../core/tensors.js";
import type { OnnxValueInfo } from "./datatypes.js";

/** A request checked against the model's signature, ready to convert and run. */
export interface PreparedRequest {
  inputs: OipTensor[];
  /** Output names to fetch, in the order the response lists them. */
  outputNames: string[];
}

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

function namesOf(values: readonly OnnxValueInfo[]): string {
  return values.map((value) => value.name).join(", ");
}

/**
 * Checks an OIP request against the model's inputs and outputs before onnxruntime sees it, so
 * client mistakes come back as MP_INVALID_REQUEST naming the tensor (the engine's own messages
 * are terse and some of its failures are indistinguishable from model bugs).
 */
export function prepareRequest(
  request: OipInferRequest,
  modelInputs: readonly OnnxValueInfo[],
  modelOutputs: readonly OnnxValueInfo[],
): PreparedRequest {
  if (!Array.isArray(request?.inputs)) throw invalid("inputs must be an array of tensors", "inputs");
  const inputs = request.inputs.map((tensor, index) => validateTensor(tensor, `inputs.${index}`));
  const byName = new Map(modelInputs.map((info) => [info.name, info]));
  const seen = new Set<string>();
  inputs.forEach((tensor, index) => {
    const param = `inputs.${index}`;
    const info = byName.get(tensor.name);
    if (!info) throw invalid(`unknown input ${tensor.name}; the model takes ${namesOf(modelInputs)}`, `${param}.name`);
    if (seen.has(tensor.name)) throw invalid(`input ${tensor.name} is given more than once`, `${param}.name`);
    seen.add(tensor.name);
    checkAgainstModel(tensor, info, param);
  });
  const missing = modelInputs.filter((info) => !seen.has(info.name));
  if (missing.length > 0) throw invalid(`missing input ${namesOf(missing)}`, "inputs");
  return { inputs, outputNames: resolveOutputs(request.outputs, modelOutputs) };
}

function checkAgainstModel(tensor: OipTensor, info: OnnxValueInfo, param: string): void {
  if (!info.datatype)
    throw new ModelportError(
      "MP_UNSUPPORTED",
      `input ${info.name} is a ${info.engineType} value, which OIP requests cannot carry`,
      { param },
    );
  if (tensor.datatype !== info.datatype)
    throw invalid(`input ${tensor.name} must be ${info.datatype}, got ${tensor.datatype}`, `${param}.datatype`);
  // An empty metadata shape means "unknown" as well as "scalar"; leave those to the engine.
  if (info.shape.length === 0) return;
  const expected = `[${info.shape.join(",")}]`;
  if (tensor.shape.length !== info.shape.length)
    throw invalid(
      `input ${tensor.name} has shape [${tensor.shape.join(",")}] but the model expects ${expected} (-1: any size)`,
      `${param}.shape`,
    );
  info.shape.forEach((dim, axis) => {
    if (dim >= 0 && tensor.shape[axis] !== dim)
      throw invalid(
        `input ${tensor.name} has shape [${tensor.shape.join(",")}] but the model expects ${expected} (-1: any size)`,
        `${param}.shape`,
      );
  });
}

function resolveOutputs(requested: OipInferRequest["outputs"], modelOutputs: readonly OnnxValueInfo[]): string[] {
  // By default, return every output OIP can carry; sequences and maps (e.g. sklearn's ZipMap) are
  // left out rather than failing the whole request. An empty list asks for nothing in particular.
  if (requested === undefined || (Array.isArray(requested) && requested.length === 0))
    return modelOutputs.filter((info) => info.datatype).map((info) => info.name);
  if (!Array.isArray(requested)) throw invalid("outputs must be an array", "outputs");
  const byName = new Map(modelOutputs.map((info) => [info.name, info]));
  const names: string[] = [];
  requested.forEach((output, index) => {
    const param = `outputs.${index}.name`;
    const name = (output as { name?: unknown } | null)?.name;
    if (typeof name !== "string" || name.length === 0) throw invalid(`${param} must be a non-empty string`, param);
    const info = byName.get(name);
    if (!info) throw invalid(`unknown output ${name}; the model produces ${namesOf(modelOutputs)}`, param);
    if (!info.datatype)
      throw new ModelportError(
        "MP_UNSUPPORTED",
        `output ${name} is a ${info.engineType} value, which OIP responses cannot carry`,
        { param },
      );
    if (names.includes(name)) throw invalid(`output ${name} is requested more than once`, param);
    names.push(name);
  });
  return names;
}
