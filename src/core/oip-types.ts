/**
 * Open Inference Protocol (v2) tensor shapes, as KServe, Triton and MLServer speak them.
 * https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */
export type OipDatatype =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES";

export const oipDatatypes: readonly OipDatatype[] = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
  "BYTES",
];

/** A tensor in the OIP JSON encoding: `data` is flat, row-major. */
export interface OipTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: (number | string | boolean)[];
  parameters?: Record<string, unknown>;
}

export interface OipInferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface OipInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: OipTensor[];
}

export interface OipTensorMetadata {
  name: string;
  datatype: OipDatatype;
  /** -1 marks a variable dimension. */
  shape: number[];
}

export interface OipModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
}
