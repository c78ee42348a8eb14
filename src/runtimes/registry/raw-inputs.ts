import { ModelportError } from "../../core/errors.js";
import type { OipDatatype, OipTensor } from "../../core/oip-types.js";
import { shapeSize, validateTensor } from "../../core/tensors.js";
import type { SignatureTensor } from "../../training/registry/types.js";

/**
 * Turns OIP v2 raw inputs (per signature.json: BYTES text, FP32 pixels, ...) into the row
 * objects the saved preprocessor transforms: row i of every input tensor becomes one cell
 * (a scalar for [N] tensors, an array for [N, ...] ones).
 */

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

const isNumeric = (datatype: OipDatatype) => datatype !== "BYTES" && datatype !== "BOOL";

function compatible(expected: OipDatatype, actual: OipDatatype): boolean {
  // Clients often send FP64 or INT pixels for an FP32 input; the preprocessor works in numbers anyway.
  return expected === actual || (isNumeric(expected) && isNumeric(actual));
}

export function rowsFromRawInputs(
  signatureInputs: readonly SignatureTensor[],
  inputs: readonly unknown[],
): { rows: Record<string, unknown>[]; count: number } {
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalid("inputs must be a non-empty array", "inputs");
  const tensors = new Map<string, OipTensor>();
  inputs.forEach((raw, index) => {
    const tensor = validateTensor(raw, `inputs.${index}`);
    if (!signatureInputs.some((input) => input.name === tensor.name))
      throw invalid(
        `unknown input '${tensor.name}'; this model takes ${signatureInputs.map((input) => `'${input.name}'`).join(", ")}`,
        `inputs.${index}.name`,
      );
    if (tensors.has(tensor.name)) throw invalid(`input '${tensor.name}' is given twice`, `inputs.${index}.name`);
    tensors.set(tensor.name, tensor);
  });

  let count: number | undefined;
  const columns: { name: string; tensor: OipTensor; width: number; scalar: boolean }[] = [];
  for (const expected of signatureInputs) {
    const tensor = tensors.get(expected.name);
    if (tensor === undefined)
      throw invalid(`missing input '${expected.name}' (${expected.datatype} [${expected.shape.join(",")}])`, "inputs");
    if (!compatible(expected.datatype, tensor.datatype))
      throw invalid(
        `input '${expected.name}' must be ${expected.datatype}, got ${tensor.datatype}`,
        `inputs.${expected.name}.datatype`,
      );
    if (tensor.shape.length === 0 || tensor.shape.length !== Math.max(1, expected.shape.length))
      throw invalid(
        `input '${expected.name}' must have shape [${expected.shape.join(",")}], got [${tensor.shape.join(",")}]`,
        `inputs.${expected.name}.shape`,
      );
    expected.shape.forEach((dim, axis) => {
      if (axis > 0 && dim >= 0 && tensor.shape[axis] !== dim)
        throw invalid(
          `input '${expected.name}' must have shape [${expected.shape.join(",")}], got [${tensor.shape.join(",")}]`,
          `inputs.${expected.name}.shape`,
        );
    });
    const rows = tensor.shape[0] as number;
    if (count !== undefined && rows !== count)
      throw invalid(`every input needs the same number of rows (${count}), '${expected.name}' has ${rows}`, "inputs");
    count = rows;
    columns.push({
      name: expected.name,
      tensor,
      width: shapeSize(tensor.shape.slice(1)),
      scalar: tensor.shape.length === 1,
    });
  }
  const total = count ?? 0;
  if (total === 0) throw invalid("the request has no rows", "inputs");
  const rows: Record<string, unknown>[] = [];
  for (let row = 0; row < total; row++) {
    const cells: Record<string, unknown> = {};
    for (const column of columns) {
      const data = column.tensor.data;
      cells[column.name] = column.scalar ? data[row] : data.slice(row * column.width, (row + 1) * column.width);
    }
    rows.push(cells);
  }
  return { rows, count: total };
}
