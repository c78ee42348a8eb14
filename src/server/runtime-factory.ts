import { isAbsolute, resolve } from "node:path";
import type { ProviderConfig } from "../config/schema.js";
import type { ModelRuntime } from "../core/runtime.js";

/**
 * Creates the runtime for one configured provider. Model paths resolve against the config file's
 * folder. Engines are imported on demand: onnxruntime, llama.cpp and TensorFlow.js take seconds
 * to load, and a command or a server that does not use one should not pay for it.
 */
export async function createRuntime(provider: ProviderConfig, baseDir: string): Promise<ModelRuntime> {
  const path = (value: string) => (isAbsolute(value) ? value : resolve(baseDir, value));
  switch (provider.type) {
    case "openai": {
      const { createOpenAIHttpRuntime } = await import("../runtimes/openai-http/runtime.js");
      return createOpenAIHttpRuntime({
        baseUrl: provider.baseUrl,
        ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
        ...(provider.headers ? { headers: provider.headers } : {}),
        maxConnections: provider.maxConnections,
      });
    }
    case "onnx": {
      const { createOnnxRuntime } = await import("../runtimes/onnx/runtime.js");
      return createOnnxRuntime({
        path: path(provider.path),
        ...(provider.intraOpThreads ? { intraOpThreads: provider.intraOpThreads } : {}),
      });
    }
    case "tfjs": {
      const { createTfjsRuntime } = await import("../runtimes/tfjs/runtime.js");
      return createTfjsRuntime({
        path: path(provider.path),
        ...(provider.inputNames ? { inputNames: provider.inputNames } : {}),
        ...(provider.outputNames ? { outputNames: provider.outputNames } : {}),
      });
    }
    case "gguf": {
      const { createGgufRuntime } = await import("../runtimes/gguf/runtime.js");
      return createGgufRuntime({
        path: path(provider.path),
        maxConcurrency: provider.maxConcurrency,
        idleTimeoutMs: provider.idleTimeoutMs,
        ...(provider.contextSize ? { contextSize: provider.contextSize } : {}),
        ...(provider.threads ? { threads: provider.threads } : {}),
      });
    }
  }
}
