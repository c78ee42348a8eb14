import type { OipDatatype } from "../../core/oip-types.js";

/** Operator-owned models (config endpoints, `modelport quickstart`) live in this namespace. */
export const globalNamespace = "_global";

export type ModelTask = "classification" | "regression";
export type ArtifactFormat = "tfjs" | "onnx";

export interface SignatureTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

/** signature.json: the raw OIP inputs clients send and the outputs they get back. */
export interface ModelSignature {
  inputs: SignatureTensor[];
  outputs: SignatureTensor[];
  task?: ModelTask;
  /** Class index → label, for classification. */
  labels?: (string | number)[];
}

/** Where a version came from. Two versions share a test set when dataset and splitSeed match. */
export interface ModelLineage {
  runId?: string;
  dataset?: { name: string; version: string };
  /** Seed of the train/validation/test split the metrics were measured on. */
  splitSeed?: number;
  parameters?: Record<string, unknown>;
}

export interface ModelVersion {
  namespace: string;
  name: string;
  version: number;
  createdAt: string;
  createdBy: string;
  /** Of the single file, or of the sorted manifest of file hashes for a directory artifact. */
  sha256: string;
  format: ArtifactFormat;
  task: ModelTask | null;
  signature: ModelSignature | null;
  /** Flat numeric metrics (test split), e.g. `{ accuracy, f1 }` or `{ rmse, mae, r2 }`. */
  metrics: Record<string, number>;
  lineage: ModelLineage;
  /** Markdown model card, generated at registration. */
  card: string;
  /** Aliases that point at this version right now. */
  aliases: string[];
  /** The drift reference profile recorded at registration (null: none; drift is not watched). */
  referenceProfile?: ReferenceProfileSummary | null;
}

/** What `models show` tells about a version's drift reference profile. */
export interface ReferenceProfileSummary {
  /** `artifact`: the trainer's reference-profile.json; `json`/`csv`: given at registration. */
  source: "artifact" | "json" | "csv";
  /** Reference rows the profile summarizes. */
  rows: number;
  /** The columns drift is tested on (derived columns of text and image features, the prediction). */
  columns: string[];
}

/** One row of `modelport models list --json` (CONTRACT.md). */
export interface ModelListEntry {
  name: string;
  version: number;
  aliases: string[];
  metrics: Record<string, number>;
}

export interface AliasChange {
  name: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number;
  actor: string;
  reason: string | null;
  overridden: boolean;
  createdAt: string;
}

/** A version whose files passed the sha256 check, ready to load. */
export interface VerifiedArtifact {
  record: ModelVersion;
  directory: string;
  /** model.json (tfjs) or model.onnx (onnx) inside `directory`. */
  modelPath: string;
  /** preprocessor.json contents, when the artifact has one. */
  preprocessor: unknown;
}
