import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipInferResponse, OipTensorMetadata } from "../../core/oip-types.js";
import type { InvokeContext, ModelRuntime, PredictMetadata } from "../../core/runtime.js";
import { loadPreprocessor, type Preprocessor } from "../../training/preprocessing/index.js";
import type { ModelSignature, VerifiedArtifact } from "../../training/registry/types.js";
import { postprocessOutputs, selectRequested } from "./postprocess.js";
import { rowsFromRawInputs } from "./raw-inputs.js";

/** Builds the engine for a verified artifact (tfjs or onnx by default; injectable for tests). */
export type LoadRuntime = (artifact: VerifiedArtifact) => ModelRuntime | Promise<ModelRuntime>;

export const defaultLoadRuntime: LoadRuntime = async (artifact) => {
  if (artifact.record.format === "onnx") {
    const { createOnnxRuntime } = await import("../onnx/runtime.js");
    return createOnnxRuntime({ path: artifact.modelPath });
  }
  const { createTfjsRuntime } = await import("../tfjs/runtime.js");
  return createTfjsRuntime({ path: artifact.modelPath });
};

type PredictResult = Omit<OipInferResponse, "model_name">;

/** One loaded registry version: its engine plus the saved preprocessing around it. */
export interface ServedVersion {
  readonly version: number;
  predict(request: OipInferRequest, context: InvokeContext): Promise<PredictResult>;
  metadata(): PredictMetadata;
  close(): Promise<void>;
}

function resolveShape(shape: readonly number[], count: number, width: number): number[] {
  const rest = shape.slice(1);
  const known = rest.every((dim) => dim > 0) && rest.reduce((product, dim) => product * dim, 1) === width;
  // A CNN takes [N,28,28,1]; the preprocessor emits rows of 784: reshape when the sizes agree.
  return known ? [count, ...rest] : [count, width];
}

export async function openServedVersion(artifact: VerifiedArtifact, loadRuntime: LoadRuntime): Promise<ServedVersion> {
  const { record } = artifact;
  const label = `${record.name} v${record.version}`;
  const runtime = await loadRuntime(artifact);
  try {
    await runtime.load();
    if (!runtime.predict || !runtime.predictMetadata)
      throw new ModelportError("MP_CONFIG_INVALID", `the ${runtime.type} runtime for ${label} cannot serve predict`);
    const engineMetadata = await runtime.predictMetadata();
    const signature: ModelSignature | null = record.signature;
    const preprocessor: Preprocessor | undefined =
      artifact.preprocessor === undefined ? undefined : loadPreprocessor(artifact.preprocessor);
    let modelInput: OipTensorMetadata | undefined;
    if (preprocessor !== undefined) {
      if (signature === null)
        throw new ModelportError("MP_MODEL_NOT_READY", `${label} has saved preprocessing but no signature`);
      const missing = preprocessor.inputColumns.filter(
        (column) => !signature.inputs.some((input) => input.name === column),
      );
      if (missing.length > 0)
        throw new ModelportError(
          "MP_MODEL_NOT_READY",
          `${label}: the preprocessor reads ${missing.join(", ")}, which signature.json does not declare as inputs`,
        );
      if (engineMetadata.inputs.length !== 1)
        throw new ModelportError(
          "MP_MODEL_NOT_READY",
          `${label}: preprocessing feeds one tensor but the model has ${engineMetadata.inputs.length} inputs`,
        );
      modelInput = engineMetadata.inputs[0];
    }
    const labels =
      signature?.labels ??
      (preprocessor?.spec.label?.task === "classification" ? preprocessor.spec.label.classes : undefined);
    const metadata: PredictMetadata = signature
      ? { platform: engineMetadata.platform, inputs: signature.inputs, outputs: signature.outputs }
      : engineMetadata;
    const predict = runtime.predict.bind(runtime);

    return {
      version: record.version,
      metadata: () => metadata,
      async predict(request, context) {
        const versionTag = { model_version: String(record.version) };
        if (preprocessor === undefined || signature === null || modelInput === undefined) {
          // No saved preprocessing (e.g. an external ONNX run): the request is already model tensors.
          return { ...(await predict(request, context)), ...versionTag };
        }
        const { rows, count } = rowsFromRawInputs(signature.inputs, request.inputs);
        const features = preprocessor.transform(rows);
        const integer = modelInput.datatype.startsWith("INT") || modelInput.datatype.startsWith("UINT");
        const data = Array.from(features, (value) => (integer ? Math.round(value) : value));
        const result = await predict(
          {
            ...(request.id === undefined ? {} : { id: request.id }),
            inputs: [
              {
                name: modelInput.name,
                datatype: modelInput.datatype,
                shape: resolveShape(modelInput.shape, count, preprocessor.width),
                data,
              },
            ],
          },
          context,
        );
        const outputs =
          signature.task === undefined ? result.outputs : postprocessOutputs(signature, result.outputs, count, labels);
        return {
          ...(request.id === undefined ? {} : { id: request.id }),
          ...versionTag,
          outputs: selectRequested(outputs, request.outputs),
        };
      },
      close: () => runtime.close(),
    };
  } catch (error) {
    await runtime.close().catch(() => undefined);
    throw error;
  }
}
