import type { Preprocessor } from "../preprocessing/preprocessor.js";
import type { TemplateName } from "./types.js";

export const signatureFormat = "modelport-signature/1";

export interface TensorSpec {
  name: string;
  datatype: "BYTES" | "FP32" | "INT64";
  shape: number[];
}

/** What an OIP v2 request carries (raw inputs; the saved preprocessing turns them into features) and gets back. */
export interface ModelSignature {
  format: typeof signatureFormat;
  template: TemplateName;
  task: "classification" | "regression";
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Files beside signature.json. */
  model: { format: "tfjs-layers"; file: "model.json" };
  preprocessing: "preprocessor.json";
  labels: "labels.json" | null;
  /** Model feature width after preprocessing. */
  featureWidth: number;
}

export function buildSignature(template: TemplateName, preprocessor: Preprocessor): ModelSignature {
  const label = preprocessor.spec.label;
  const inputs: TensorSpec[] = preprocessor.spec.steps.map((step) => {
    switch (step.kind) {
      case "bag-of-words":
      case "sequence":
        return { name: step.column, datatype: "BYTES", shape: [-1] };
      case "image":
        return { name: step.column, datatype: "FP32", shape: [-1, step.shape.reduce((a, b) => a * b, 1)] };
      case "one-hot":
      case "ordinal":
        return {
          name: step.column,
          datatype: step.categories.every((value) => typeof value === "number") ? "FP32" : "BYTES",
          shape: [-1],
        };
      default:
        return { name: step.column, datatype: "FP32", shape: [-1] };
    }
  });
  const base = {
    format: signatureFormat,
    template,
    inputs,
    model: { format: "tfjs-layers", file: "model.json" },
    preprocessing: "preprocessor.json",
    featureWidth: preprocessor.width,
  } as const;
  if (label === null || label.task === "regression") {
    return {
      ...base,
      task: "regression",
      outputs: [{ name: "prediction", datatype: "FP32", shape: [-1] }],
      labels: null,
    };
  }
  const numeric = label.classes.every((value) => typeof value === "number");
  return {
    ...base,
    task: "classification",
    outputs: [
      { name: "label", datatype: numeric ? "INT64" : "BYTES", shape: [-1] },
      { name: "probabilities", datatype: "FP32", shape: [-1, label.classes.length] },
    ],
    labels: "labels.json",
  };
}
