import type { InferenceSession, Tensor } from "onnxruntime-node";
import type { OipDatatype, OipTensorMetadata } from "../../core/oip-types.js";

/** onnxruntime element types that have an OIP datatype (int4/uint4 have none). */
export type OrtElementType = Exclude<Tensor.Type, "int4" | "uint4">;

const oipToOrt: Record<OipDatatype, OrtElementType> = {
  BOOL: "bool",
  UINT8: "uint8",
  UINT16: "uint16",
  UINT32: "uint32",
  UINT64: "uint64",
  INT8: "int8",
  INT16: "int16",
  INT32: "int32",
  INT64: "int64",
  FP16: "float16",
  FP32: "float32",
  FP64: "float64",
  BYTES: "string",
};

const ortToOip = new Map<string, OipDatatype>(Object.entries(oipToOrt).map(([oip, ort]) => [ort, oip as OipDatatype]));

export function ortTypeOf(datatype: OipDatatype): OrtElementType {
  return oipToOrt[datatype];
}

/** The OIP datatype for an onnxruntime element type, or undefined when OIP has none. */
export function oipTypeOf(type: string): OipDatatype | undefined {
  return ortToOip.get(type);
}

/** A model input or output as the adapter sees it: OIP datatype and shape, -1 for symbolic dims. */
export interface OnnxValueInfo {
  name: string;
  /** Undefined for non-tensor values (sequences, maps) and element types OIP cannot carry. */
  datatype: OipDatatype | undefined;
  /** The engine's element type name, for messages about values we cannot serve. */
  engineType: string;
  shape: number[];
}

export function describeValue(metadata: InferenceSession.ValueMetadata): OnnxValueInfo {
  if (!metadata.isTensor) return { name: metadata.name, datatype: undefined, engineType: "non-tensor", shape: [] };
  return {
    name: metadata.name,
    datatype: oipTypeOf(metadata.type),
    engineType: metadata.type,
    // Symbolic dims ("N", "batch") are strings; OIP marks any variable dim as -1.
    shape: metadata.shape.map((dim) => (typeof dim === "number" && dim >= 0 ? dim : -1)),
  };
}

/** Only values with an OIP datatype can be described to (and served to) OIP clients. */
export function toOipMetadata(values: readonly OnnxValueInfo[]): OipTensorMetadata[] {
  const described: OipTensorMetadata[] = [];
  for (const { name, datatype, shape } of values) if (datatype) described.push({ name, datatype, shape: [...shape] });
  return described;
}
