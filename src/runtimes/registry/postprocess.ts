import { ModelportError } from "../../core/errors.js";
import type { OipTensor } from "../../core/oip-types.js";
import type { ModelSignature, SignatureTensor } from "../../training/registry/types.js";

/**
 * Turns the model's raw output tensor into the signature's outputs: for classification, `label`
 * (argmax decoded through the saved labels) and `probabilities`; for regression, the values.
 */

function numbersOf(tensor: OipTensor): number[] {
  return tensor.data.map((value) => Number(value));
}

/** Rows of class probabilities; a single sigmoid column becomes [1-p, p]. */
function probabilityRows(tensor: OipTensor, count: number): number[][] {
  const values = numbersOf(tensor);
  const width = count === 0 ? 0 : values.length / count;
  if (!Number.isInteger(width) || width < 1)
    throw new ModelportError("MP_RUNTIME_ERROR", `the model returned ${values.length} values for ${count} rows`);
  const rows: number[][] = [];
  for (let row = 0; row < count; row++) {
    const slice = values.slice(row * width, (row + 1) * width);
    rows.push(width === 1 ? [1 - (slice[0] as number), slice[0] as number] : slice);
  }
  return rows;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++)
    if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

function labelTensor(
  output: SignatureTensor,
  classes: number[],
  labels: readonly (string | number)[] | undefined,
): OipTensor {
  const decoded = classes.map((index) => labels?.[index] ?? index);
  if (output.datatype === "BYTES")
    return { name: output.name, datatype: "BYTES", shape: [classes.length], data: decoded.map(String) };
  // Numeric label outputs: the label itself when numeric (digit classes), else the class index.
  const data = decoded.map((label, i) =>
    typeof label === "number" ? label : Number.isFinite(Number(label)) ? Number(label) : (classes[i] as number),
  );
  return { name: output.name, datatype: output.datatype, shape: [classes.length], data };
}

export function postprocessOutputs(
  signature: ModelSignature,
  modelOutputs: readonly OipTensor[],
  count: number,
  labels: readonly (string | number)[] | undefined,
): OipTensor[] {
  const primary = modelOutputs.find((tensor) => tensor.name === "probabilities") ?? modelOutputs[0];
  if (primary === undefined) throw new ModelportError("MP_RUNTIME_ERROR", "the model returned no outputs");
  if (signature.task === "regression") {
    const values = numbersOf(primary);
    return signature.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: values.length === count ? [count] : [count, values.length / count],
      data: values,
    }));
  }
  const probabilities = probabilityRows(primary, count);
  const classes = probabilities.map(argmax);
  return signature.outputs.map((output) => {
    const isLabel = output.name === "label" || output.datatype === "BYTES" || !output.datatype.startsWith("FP");
    if (isLabel) return labelTensor(output, classes, labels);
    const width = probabilities[0]?.length ?? 0;
    return { name: output.name, datatype: output.datatype, shape: [count, width], data: probabilities.flat() };
  });
}

/** Applies the request's `outputs` selection (all outputs when absent). */
export function selectRequested(outputs: OipTensor[], requested: { name: string }[] | undefined): OipTensor[] {
  if (requested === undefined || requested.length === 0) return outputs;
  return requested.map(({ name }) => {
    const found = outputs.find((output) => output.name === name);
    if (found === undefined)
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `unknown output '${name}'; this model returns ${outputs.map((output) => `'${output.name}'`).join(", ")}`,
        { param: "outputs" },
      );
    return found;
  });
}
