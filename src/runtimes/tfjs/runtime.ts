import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipInferResponse, OipTensor } from "../../core/oip-types.js";
import type { InvokeContext, ModelRuntime, PredictMetadata } from "../../core/runtime.js";
import { fileLoadHandler } from "./file-io.js";
import { datatypeOf, prepareInputs, selectOutputs, type TensorSlot, toOipData } from "./tensor-mapping.js";
import { ensureWasmBackend } from "./wasm-backend.js";

/**
 * Serves a TensorFlow.js layers model (model.json + weights) for `predict` endpoints, on the wasm
 * backend. Requests and answers are OIP v2 tensors; tensors are built and read per call and always
 * disposed, so memory stays flat however many requests run.
 */

export interface TfjsRuntimeOptions {
  /** Path of the model's model.json; weight files are read from beside it. */
  path: string;
  /** Names for the model's inputs, in model order (default: the input layers' names). */
  inputNames?: string[];
  /** Names for the model's outputs, in model order (default: the output layers' names). */
  outputNames?: string[];
}

export const tfjsPlatform = "tensorflowjs_layers";

interface LoadedModel {
  model: tfl.LayersModel;
  inputs: TensorSlot[];
  outputs: TensorSlot[];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Layer names are what users see in Keras/tfjs summaries, and they survive loading unchanged
 * (symbolic tensor names get a process-wide `_N` suffix on every load, so they are unusable as
 * API names). A layer with several outputs gets `layer:index` names.
 */
function defaultNames(tensors: tfl.SymbolicTensor[]): string[] {
  const names = tensors.map((tensor) => tensor.sourceLayer.name);
  if (new Set(names).size === names.length) return names;
  return tensors.map((tensor) => `${tensor.sourceLayer.name}:${tensor.outputTensorIndex ?? 0}`);
}

function describeTensors(
  path: string,
  role: "input" | "output",
  tensors: tfl.SymbolicTensor[],
  configured: string[] | undefined,
): TensorSlot[] {
  if (configured && configured.length !== tensors.length)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `tfjs model ${path} has ${tensors.length} ${role}(s) but ${configured.length} ${role}Names were configured`,
    );
  const names = configured ?? defaultNames(tensors);
  if (new Set(names).size !== names.length)
    throw new ModelportError("MP_CONFIG_INVALID", `${role}Names for ${path} must be unique (got ${names.join(", ")})`);
  return tensors.map((tensor, index) => {
    const kind = datatypeOf[tensor.dtype];
    if (!kind)
      throw new ModelportError(
        "MP_MODEL_NOT_READY",
        `tfjs model ${path}: ${role} ${names[index]} has dtype ${tensor.dtype}, which predict cannot serve`,
      );
    return { name: names[index] ?? tensor.name, ...kind, shape: [...tensor.shape] };
  });
}

async function loadModel(options: TfjsRuntimeOptions): Promise<LoadedModel> {
  await ensureWasmBackend();
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(fileLoadHandler(options.path));
  } catch (error) {
    if (error instanceof ModelportError) throw error;
    throw new ModelportError(
      "MP_MODEL_NOT_READY",
      `tfjs model ${options.path} could not be loaded: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  try {
    return {
      model,
      inputs: describeTensors(options.path, "input", model.inputs, options.inputNames),
      outputs: describeTensors(options.path, "output", model.outputs, options.outputNames),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

function aborted(): ModelportError {
  return new ModelportError("MP_UPSTREAM_TIMEOUT", "the request was cancelled before the tfjs model ran");
}

export function createTfjsRuntime(options: TfjsRuntimeOptions): ModelRuntime {
  if (typeof options?.path !== "string" || options.path.length === 0)
    throw new ModelportError("MP_CONFIG_INVALID", "the tfjs runtime needs `path`, the path of a model.json file");
  let loaded: LoadedModel | undefined;
  let loading: Promise<LoadedModel> | undefined;

  function ensureLoaded(): Promise<LoadedModel> {
    if (loaded) return Promise.resolve(loaded);
    // One load in flight at a time: concurrent callers share it; a failure lets the next call retry.
    loading ??= loadModel(options).then(
      (model) => {
        loaded = model;
        return model;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  }

  return {
    type: "tfjs",
    kinds: ["predict"],

    async load() {
      await ensureLoaded();
    },

    isReady() {
      return loaded !== undefined;
    },

    async predictMetadata(): Promise<PredictMetadata> {
      const { inputs, outputs } = await ensureLoaded();
      const describe = (slot: TensorSlot) => ({
        name: slot.name,
        datatype: slot.datatype,
        shape: slot.shape.map((dim) => dim ?? -1),
      });
      return { platform: tfjsPlatform, inputs: inputs.map(describe), outputs: outputs.map(describe) };
    },

    async predict(request: OipInferRequest, context: InvokeContext): Promise<Omit<OipInferResponse, "model_name">> {
      if (context.signal.aborted) throw aborted();
      const { model, inputs, outputs } = await ensureLoaded();
      const prepared = prepareInputs(request, inputs);
      const selected = selectOutputs(request, outputs);
      if (context.signal.aborted) throw aborted();

      let results: tf.Tensor[];
      try {
        // tidy frees the input tensors and every intermediate; only the outputs survive it.
        results = tf.tidy(() => {
          const feeds = prepared.map(({ slot, data, shape }) => tf.tensor(data, shape, slot.dtype));
          const predicted = model.predict(feeds.length === 1 ? (feeds[0] as tf.Tensor) : feeds);
          return Array.isArray(predicted) ? predicted : [predicted];
        });
      } catch (error) {
        throw new ModelportError("MP_RUNTIME_ERROR", `tfjs model ${options.path} failed: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      try {
        const answer: OipTensor[] = [];
        for (const index of selected) {
          const tensor = results[index];
          const slot = outputs[index];
          if (!tensor || !slot)
            throw new ModelportError(
              "MP_RUNTIME_ERROR",
              `tfjs model ${options.path} returned ${results.length} outputs, expected ${outputs.length}`,
            );
          const kind = datatypeOf[tensor.dtype] ?? { datatype: slot.datatype };
          answer.push({
            name: slot.name,
            datatype: kind.datatype,
            shape: [...tensor.shape],
            data: toOipData(await tensor.data(), tensor.dtype),
          });
        }
        return { ...(request.id === undefined ? {} : { id: request.id }), outputs: answer };
      } finally {
        tf.dispose(results);
      }
    },

    async close() {
      // Let a load in flight finish first, so its model is disposed rather than leaked.
      const pending = loading;
      if (pending) await pending.catch(() => undefined);
      const current = loaded;
      loaded = undefined;
      loading = undefined;
      current?.model.dispose();
    },
  };
}
