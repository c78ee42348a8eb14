import { access } from "node:fs/promises";
import { InferenceSession, type Tensor } from "onnxruntime-node";
import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipInferResponse } from "../../core/oip-types.js";
import type { InvokeContext, ModelRuntime, PredictMetadata } from "../../core/runtime.js";
import { describeValue, type OnnxValueInfo, toOipMetadata } from "./datatypes.js";
import { fromRunError } from "./engine-errors.js";
import { prepareRequest } from "./prepare-request.js";
import { fromOrtTensor, toOrtTensor } from "./tensor-conversion.js";

export interface OnnxRuntimeOptions {
  /** Path of the `.onnx` file. */
  path: string;
  /** Threads one inference may use; onnxruntime's default is one per core. */
  intraOpThreads?: number;
}

/** The port, with the predict methods this runtime always has (so callers need no `?.`). */
export type OnnxRuntime = ModelRuntime & Required<Pick<ModelRuntime, "predict" | "predictMetadata">>;

/** Triton's and KServe's platform name for ONNX models. */
export const onnxPlatform = "onnxruntime_onnx";

interface LoadedModel {
  session: InferenceSession;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

type PredictResult = Omit<OipInferResponse, "model_name">;

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw new ModelportError("MP_UPSTREAM_TIMEOUT", "request aborted before inference", { cause: signal.reason });
}

async function openModel(options: OnnxRuntimeOptions): Promise<LoadedModel> {
  const { path, intraOpThreads } = options;
  try {
    await access(path);
  } catch (error) {
    throw new ModelportError("MP_MODEL_NOT_READY", `ONNX model file ${path} cannot be read`, { cause: error });
  }
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(path, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      // Warnings (e.g. unused initializers) are not actionable at serve time; errors still surface as throws.
      logSeverityLevel: 3,
      ...(intraOpThreads === undefined ? {} : { intraOpNumThreads: intraOpThreads }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelportError("MP_MODEL_NOT_READY", `cannot load ONNX model ${path}: ${reason}`, { cause: error });
  }
  return {
    session,
    inputs: session.inputMetadata.map(describeValue),
    outputs: session.outputMetadata.map(describeValue),
  };
}

/**
 * Serves an ONNX model through onnxruntime-node on the CPU. One session per runtime; onnxruntime
 * sessions accept concurrent `run` calls, so predictions are not serialised here.
 */
export function createOnnxRuntime(options: OnnxRuntimeOptions): OnnxRuntime {
  // One load promise shared by concurrent callers; cleared on failure so a fixed file can load later.
  let loading: Promise<LoadedModel> | undefined;
  let loaded: LoadedModel | undefined;
  let closed = false;
  // close() waits for these so it never releases a session under a running inference.
  const inFlight = new Set<Promise<unknown>>();

  function ensureModel(): Promise<LoadedModel> {
    if (!loading) {
      const attempt: Promise<LoadedModel> = openModel(options).then(
        (model) => {
          if (loading === attempt) loaded = model;
          return model;
        },
        (error: unknown) => {
          if (loading === attempt) loading = undefined;
          throw error;
        },
      );
      loading = attempt;
    }
    return loading;
  }

  async function runPredict(request: OipInferRequest, context: InvokeContext): Promise<PredictResult> {
    throwIfAborted(context.signal);
    const model = await ensureModel();
    const prepared = prepareRequest(request, model.inputs, model.outputs);
    const feeds: Record<string, Tensor> = {};
    for (const input of prepared.inputs) feeds[input.name] = toOrtTensor(input);
    throwIfAborted(context.signal);
    let results: InferenceSession.ReturnType;
    try {
      results = await model.session.run(feeds, prepared.outputNames);
    } catch (error) {
      throw fromRunError(error);
    }
    const outputs = prepared.outputNames.map((name) => {
      const value = results[name];
      if (!value) throw new ModelportError("MP_RUNTIME_ERROR", `onnxruntime returned no value for output ${name}`);
      return fromOrtTensor(name, value as Tensor);
    });
    return { ...(request.id === undefined ? {} : { id: request.id }), outputs };
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    const done = () => inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  return {
    type: "onnx",
    kinds: ["predict"],

    async load() {
      // An explicit load re-opens a closed runtime; predict() alone never does.
      closed = false;
      await ensureModel();
    },

    isReady() {
      return !closed && loaded !== undefined;
    },

    predict(request, context) {
      if (closed)
        return Promise.reject(new ModelportError("MP_MODEL_NOT_READY", `ONNX runtime for ${options.path} is closed`));
      return track(runPredict(request, context));
    },

    async predictMetadata(): Promise<PredictMetadata> {
      if (closed) throw new ModelportError("MP_MODEL_NOT_READY", `ONNX runtime for ${options.path} is closed`);
      const model = await ensureModel();
      return { platform: onnxPlatform, inputs: toOipMetadata(model.inputs), outputs: toOipMetadata(model.outputs) };
    },

    async close() {
      closed = true;
      const pending = loading;
      loading = undefined;
      loaded = undefined;
      if (!pending) return;
      await Promise.allSettled([...inFlight]);
      const model = await pending.catch(() => undefined);
      // release() throws on a second call; `loading` was cleared above, so this runs once per session.
      await model?.session.release();
    },
  };
}
