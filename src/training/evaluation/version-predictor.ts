import { ModelportError } from "../../core/errors.js";
import type { InvokeContext, ModelRuntime } from "../../core/runtime.js";
import { postprocessOutputs } from "../../runtimes/registry/postprocess.js";
import { defaultLoadRuntime, type LoadRuntime } from "../../runtimes/registry/served-version.js";
import { loadPreprocessor, type Preprocessor } from "../preprocessing/index.js";
import type { ModelSignature, ModelTask, VerifiedArtifact } from "../registry/types.js";
import type { Label } from "./labels.js";

/**
 * A registry version as the gateway runs it (the same engine loader, the saved preprocessing, the
 * same output post-processing), fed dataset rows instead of OIP tensors: OIP tensors cannot carry
 * missing cells, which the saved preprocessing imputes exactly as it did for the trainer's split.
 */
/** What eval needs to know about a version before running it: read from its saved files, no engine loaded. */
export interface VersionModel {
  readonly label: string;
  readonly task: ModelTask;
  readonly preprocessor: Preprocessor;
  /** The raw input columns a row must carry (signature inputs). */
  readonly inputColumns: readonly string[];
  /** The label column of the training data. */
  readonly labelColumn: string;
  /** Classification: the labels of the probability columns, in order. */
  readonly classes: readonly Label[];
  /** The signature reduced to the one output eval reads (probabilities, or the regression values). */
  readonly evalSignature: ModelSignature;
}

export interface VersionPredictor extends VersionModel {
  /** Classification: one probability row per input row; regression: one value per row. */
  predict(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<number[][] | number[]>;
  close(): Promise<void>;
}

function notEvaluable(label: string, why: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", `${label} cannot be evaluated: ${why}`, { param: "model" });
}

/** A CNN takes [N,28,28,1] while the preprocessor emits rows of 784: reshape when the sizes agree (as served-version does). */
function modelShape(shape: readonly number[], count: number, width: number): number[] {
  const rest = shape.slice(1);
  const known = rest.every((dim) => dim > 0) && rest.reduce((product, dim) => product * dim, 1) === width;
  return known ? [count, ...rest] : [count, width];
}

const context = (): InvokeContext => ({
  signal: new AbortController().signal,
  requestId: "modelport-eval",
  timeouts: { connectMs: 0, firstByteMs: 0, totalMs: 0 },
});

export function readVersionModel(artifact: VerifiedArtifact): VersionModel {
  const { record } = artifact;
  const label = `${record.name} v${record.version}`;
  if (artifact.preprocessor === undefined)
    throw notEvaluable(label, "it has no saved preprocessing (preprocessor.json), so dataset rows cannot be fed to it");
  const preprocessor = loadPreprocessor(artifact.preprocessor);
  const labelSpec = preprocessor.spec.label;
  if (labelSpec === null) throw notEvaluable(label, "its saved preprocessing has no label column");
  const signature: ModelSignature | null = record.signature;
  if (signature === null) throw notEvaluable(label, "it has saved preprocessing but no signature");
  const missing = preprocessor.inputColumns.filter(
    (column) => !signature.inputs.some((input) => input.name === column),
  );
  if (missing.length > 0)
    throw notEvaluable(label, `the preprocessor reads ${missing.join(", ")}, which signature.json does not declare`);
  const task = labelSpec.task;
  const classes: readonly Label[] =
    task === "classification" ? (signature.labels ?? labelSpec.classes) : ([] as readonly Label[]);
  return {
    label,
    task,
    preprocessor,
    inputColumns: signature.inputs.map((input) => input.name),
    labelColumn: labelSpec.column,
    classes,
    // postprocessOutputs with just the output eval needs: probabilities (a sigmoid column becomes
    // [1-p, p], as the gateway answers) or the regression values.
    evalSignature: {
      inputs: signature.inputs,
      task,
      outputs: [
        task === "classification"
          ? { name: "probabilities", datatype: "FP32", shape: [-1, classes.length] }
          : { name: "prediction", datatype: "FP32", shape: [-1] },
      ],
    },
  };
}

/** Loads the version's engine (the gateway's loader) behind the saved preprocessing. */
export async function openVersionPredictor(
  artifact: VerifiedArtifact,
  model: VersionModel = readVersionModel(artifact),
  loadRuntime: LoadRuntime = defaultLoadRuntime,
): Promise<VersionPredictor> {
  const { label, task, preprocessor, classes, evalSignature } = model;
  const runtime: ModelRuntime = await loadRuntime(artifact);
  try {
    await runtime.load();
    if (!runtime.predict || !runtime.predictMetadata)
      throw notEvaluable(label, `the ${runtime.type} runtime cannot serve predict`);
    const engine = await runtime.predictMetadata();
    const modelInput = engine.inputs[0];
    if (engine.inputs.length !== 1 || modelInput === undefined)
      throw notEvaluable(label, `preprocessing feeds one tensor but the model has ${engine.inputs.length} inputs`);
    const integer = modelInput.datatype.startsWith("INT") || modelInput.datatype.startsWith("UINT");
    const predict = runtime.predict.bind(runtime);

    return {
      ...model,
      async predict(rows) {
        const count = rows.length;
        const features = preprocessor.transform(rows);
        const result = await predict(
          {
            inputs: [
              {
                name: modelInput.name,
                datatype: modelInput.datatype,
                shape: modelShape(modelInput.shape, count, preprocessor.width),
                data: Array.from(features, (value) => (integer ? Math.round(value) : value)),
              },
            ],
          },
          context(),
        );
        const [output] = postprocessOutputs(evalSignature, result.outputs, count, classes);
        const values = (output?.data ?? []).map(Number);
        if (task === "regression") {
          if (values.length !== count)
            throw new ModelportError("MP_RUNTIME_ERROR", `${label} returned ${values.length} values for ${count} rows`);
          return values;
        }
        const width = classes.length;
        if (values.length !== count * width)
          throw new ModelportError(
            "MP_RUNTIME_ERROR",
            `${label} returned ${values.length / count} probabilities per row for ${width} classes`,
          );
        return Array.from({ length: count }, (_, row) => values.slice(row * width, (row + 1) * width));
      },
      close: () => runtime.close(),
    };
  } catch (error) {
    await runtime.close().catch(() => undefined);
    throw error;
  }
}
