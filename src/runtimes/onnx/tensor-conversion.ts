import { Tensor } from "onnxruntime-node";
import { ModelportError } from "../../core/errors.js";
import type { OipTensor } from "../../core/oip-types.js";
import { oipTypeOf, ortTypeOf } from "./datatypes.js";
import { fromFloat16Bits, toFloat16Bits } from "./float16.js";

/**
 * OIP JSON tensors ↔ onnxruntime tensors. Inputs arrive already checked by `validateTensor`
 * (element kinds and integer ranges), so conversion here cannot lose information except for
 * FP16 rounding, which the datatype implies.
 */

type Element = OipTensor["data"][number];

const asNumber = (value: Element): number => Number(value);

export function toOrtTensor(tensor: OipTensor): Tensor {
  const { data, shape } = tensor;
  const type = ortTypeOf(tensor.datatype);
  switch (type) {
    case "string":
      return new Tensor("string", data.map(String), shape);
    case "bool":
      return new Tensor(
        "bool",
        Uint8Array.from(data, (value) => (value === true || value === 1 ? 1 : 0)),
        shape,
      );
    case "int64":
      return new Tensor(
        "int64",
        BigInt64Array.from(data, (value) => BigInt(asNumber(value))),
        shape,
      );
    case "uint64":
      return new Tensor(
        "uint64",
        BigUint64Array.from(data, (value) => BigInt(asNumber(value))),
        shape,
      );
    case "float16":
      return new Tensor(
        "float16",
        Uint16Array.from(data, (value) => toFloat16Bits(asNumber(value))),
        shape,
      );
    case "float32":
      return new Tensor("float32", Float32Array.from(data, asNumber), shape);
    case "float64":
      return new Tensor("float64", Float64Array.from(data, asNumber), shape);
    case "int32":
      return new Tensor("int32", Int32Array.from(data, asNumber), shape);
    case "int16":
      return new Tensor("int16", Int16Array.from(data, asNumber), shape);
    case "int8":
      return new Tensor("int8", Int8Array.from(data, asNumber), shape);
    case "uint32":
      return new Tensor("uint32", Uint32Array.from(data, asNumber), shape);
    case "uint16":
      return new Tensor("uint16", Uint16Array.from(data, asNumber), shape);
    case "uint8":
      return new Tensor("uint8", Uint8Array.from(data, asNumber), shape);
  }
}

function safeInteger(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    throw new ModelportError(
      "MP_RUNTIME_ERROR",
      `output ${name} holds ${value}, which JSON numbers cannot represent exactly (beyond ±2^53-1)`,
    );
  return Number(value);
}

/** Converts one engine output back to OIP's JSON form. */
export function fromOrtTensor(name: string, tensor: Tensor): OipTensor {
  const datatype = oipTypeOf(tensor.type);
  if (!datatype)
    throw new ModelportError(
      "MP_UNSUPPORTED",
      `output ${name} has element type ${tensor.type}, which OIP cannot carry`,
    );
  const shape = [...tensor.dims];
  const raw = tensor.data;
  let data: Element[];
  if (tensor.type === "string") data = [...(raw as string[])];
  else if (tensor.type === "bool") data = Array.from(raw as Uint8Array, (value) => value !== 0);
  else if (tensor.type === "float16") data = Array.from(raw as Uint16Array, fromFloat16Bits);
  else if (raw instanceof BigInt64Array || raw instanceof BigUint64Array)
    data = Array.from(raw, (value: bigint) => safeInteger(value, name));
  else data = Array.from(raw as ArrayLike<number>);
  return { name, datatype, shape, data };
}
