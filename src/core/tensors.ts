import { ModelportError } from "./errors.js";
import { type OipDatatype, type OipTensor, oipDatatypes } from "./oip-types.js";

/** Number of elements a shape holds. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

const integerRanges: Partial<Record<OipDatatype, [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

/**
 * Checks one OIP input tensor: known datatype, non-negative integer shape, flat data whose length
 * equals the shape's size, and elements of the datatype's kind and range. Nested `data` arrays
 * (allowed by the protocol) are flattened first. Returns the tensor with flat data.
 */
export function validateTensor(tensor: unknown, path: string): OipTensor {
  if (typeof tensor !== "object" || tensor === null) throw invalid(`${path} must be an object`, path);
  const { name, datatype, shape, data, parameters } = tensor as Record<string, unknown>;
  if (typeof name !== "string" || name.length === 0)
    throw invalid(`${path}.name must be a non-empty string`, `${path}.name`);
  if (typeof datatype !== "string" || !oipDatatypes.includes(datatype as OipDatatype))
    throw invalid(`${path}.datatype must be one of ${oipDatatypes.join(", ")}`, `${path}.datatype`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0))
    throw invalid(`${path}.shape must be an array of non-negative integers`, `${path}.shape`);
  if (!Array.isArray(data)) throw invalid(`${path}.data must be an array`, `${path}.data`);
  const flat = (data as unknown[]).flat(Number.POSITIVE_INFINITY) as unknown[];
  const expected = shapeSize(shape as number[]);
  if (flat.length !== expected)
    throw invalid(
      `${path}.data has ${flat.length} elements but shape [${(shape as number[]).join(",")}] needs ${expected}`,
      `${path}.data`,
    );
  const type = datatype as OipDatatype;
  for (let index = 0; index < flat.length; index++) {
    const value = flat[index];
    if (!elementFits(type, value)) throw invalid(`${path}.data[${index}] is not a valid ${type} value`, `${path}.data`);
  }
  return {
    name,
    datatype: type,
    shape: shape as number[],
    data: flat as OipTensor["data"],
    ...(parameters && typeof parameters === "object" ? { parameters: parameters as Record<string, unknown> } : {}),
  };
}

function elementFits(type: OipDatatype, value: unknown): boolean {
  if (type === "BYTES") return typeof value === "string";
  if (type === "BOOL") return typeof value === "boolean" || value === 0 || value === 1;
  if (typeof value !== "number" || !Number.isFinite(value)) return false;
  const range = integerRanges[type];
  if (!range) return true; // floating point
  return Number.isInteger(value) && value >= range[0] && value <= range[1];
}
