import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import {
  type ChatWrapper,
  GeneralChatWrapper,
  type LlamaContext,
  type LlamaEmbeddingContext,
  type LlamaModel,
  resolveChatWrapper,
} from "node-llama-cpp";
import { ModelportError } from "../../core/errors.js";
import { errorLineMark, errorLinesSince, getSharedLlama } from "./llama-instance.js";

/** Everything one loaded model offers to requests. Valid until the host unloads it. */
export interface LoadedModel {
  readonly model: LlamaModel;
  /** The chat context: one sequence per concurrent request. */
  readonly context: LlamaContext;
  /** Tokens one sequence can hold (prompt + completion). */
  readonly contextSize: number;
  /** Chosen from the model's `tokenizer.chat_template` (node-llama-cpp's resolveChatWrapper). */
  readonly chatWrapper: ChatWrapper;
  /** Created on first use: most deployments use a model for chat or embeddings, not both. */
  embeddingContext(): Promise<LlamaEmbeddingContext>;
}

export interface ModelHostOptions {
  path: string;
  /** Per-sequence context size; default: the model's training context, at most 4096. */
  contextSize?: number;
  sequences: number;
  /** Milliseconds without requests before the model is unloaded; 0 keeps it loaded. */
  idleTimeoutMs: number;
  threads?: number;
}

export interface ModelLease {
  readonly loaded: LoadedModel;
  /** Ends this request's hold on the model; the idle timer starts when none are left. Idempotent. */
  release(): void;
}

/**
 * Owns the lifecycle of one GGUF model: loads it once however many requests race to use it,
 * unloads it (model and contexts) after `idleTimeoutMs` without requests, and loads it again on
 * the next request. A request holds a lease for its whole duration (a stream until its last
 * chunk), so the model is never unloaded under a running generation.
 */
export interface ModelHost {
  acquire(): Promise<ModelLease>;
  isLoaded(): boolean;
  isReady(): boolean;
  /** Times the model has been loaded (tests use it to observe reloads). */
  readonly loadCount: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_CONTEXT = 4096;

interface HostedModel extends LoadedModel {
  dispose(): Promise<void>;
}

export function createModelHost(options: ModelHostOptions): ModelHost {
  let current: Promise<HostedModel> | undefined;
  let loadedValue: HostedModel | undefined;
  let unloading: Promise<void> | undefined;
  let lastLoadError: ModelportError | undefined;
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let loadCount = 0;

  const notReady = (message: string, cause?: unknown) =>
    new ModelportError("MP_MODEL_NOT_READY", message, cause === undefined ? {} : { cause });

  async function load(): Promise<HostedModel> {
    const { path } = options;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new Error("not a regular file");
    } catch (error) {
      throw notReady(`GGUF model file not found or unreadable: ${path}`, error);
    }
    const llama = await getSharedLlama().catch((error: unknown) => {
      throw notReady(`llama.cpp backend unavailable for ${path}: ${messageOf(error)}`, error);
    });
    const mark = errorLineMark();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    } catch (error) {
      const detail = [messageOf(error), ...errorLinesSince(mark)].join("; ");
      throw notReady(`cannot load GGUF model ${path}: ${detail}`, error);
    }
    try {
      const context = await model.createContext({
        contextSize: options.contextSize ?? Math.min(model.trainContextSize, DEFAULT_MAX_CONTEXT),
        sequences: options.sequences,
        // An explicit size either fits or fails; silently shrinking would change the limits users see.
        failedCreationRemedy: false,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      });
      let embedding: Promise<LlamaEmbeddingContext> | undefined;
      return {
        model,
        context,
        contextSize: context.contextSize,
        chatWrapper: chooseChatWrapper(model),
        embeddingContext() {
          if (!embedding) {
            embedding = model.createEmbeddingContext({
              contextSize: context.contextSize,
              ...(options.threads === undefined ? {} : { threads: options.threads }),
            });
            // A failed creation is retried by the next request rather than cached.
            embedding.catch(() => {
              embedding = undefined;
            });
          }
          return embedding;
        },
        async dispose() {
          const embeddingContext = await embedding?.catch(() => undefined);
          await embeddingContext?.dispose();
          await context.dispose();
          await model.dispose();
        },
      };
    } catch (error) {
      await model.dispose();
      throw notReady(`cannot create a llama.cpp context for ${path}: ${messageOf(error)}`, error);
    }
  }

  const dispose = (loaded: HostedModel) => loaded.dispose();

  async function ensureLoaded(): Promise<HostedModel> {
    // An unload in flight must finish before a reload, or both would hold the weights at once.
    while (unloading) await unloading;
    if (!current) {
      const attempt = load().then(
        (loaded) => {
          loadCount++;
          loadedValue = loaded;
          lastLoadError = undefined;
          return loaded;
        },
        (error: unknown) => {
          lastLoadError = error instanceof ModelportError ? error : notReady(messageOf(error), error);
          if (current === attempt) current = undefined; // the next request tries again
          throw lastLoadError;
        },
      );
      current = attempt;
    }
    return current;
  }

  function unloadIfIdle(): void {
    idleTimer = undefined;
    if (active > 0 || !current || closed) return;
    const loading = current;
    current = undefined;
    loadedValue = undefined;
    unloading = loading
      .then(dispose, () => undefined)
      .finally(() => {
        unloading = undefined;
      });
  }

  function releaseActivity(): void {
    active--;
    if (active === 0 && options.idleTimeoutMs > 0 && !closed) {
      idleTimer = setTimeout(unloadIfIdle, options.idleTimeoutMs);
      idleTimer.unref(); // an idle model must not keep the process alive
    }
  }

  return {
    get loadCount() {
      return loadCount;
    },
    async acquire() {
      if (closed) throw notReady(`the gguf runtime for ${options.path} is closed`);
      active++;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = undefined;
      let loaded: LoadedModel;
      try {
        loaded = await ensureLoaded();
      } catch (error) {
        releaseActivity();
        throw error;
      }
      if (closed) {
        releaseActivity();
        throw notReady(`the gguf runtime for ${options.path} is closed`);
      }
      let released = false;
      return {
        loaded,
        release() {
          if (released) return;
          released = true;
          releaseActivity();
        },
      };
    },
    isLoaded() {
      return loadedValue !== undefined;
    },
    isReady() {
      if (closed) return false;
      if (loadedValue) return true;
      // "Loadable": the last attempt did not fail and the file is there (a cheap stat, no parsing).
      return lastLoadError === undefined && existsSync(options.path);
    },
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = undefined;
      const loading = current;
      current = undefined;
      loadedValue = undefined;
      while (unloading) await unloading;
      if (loading) await loading.then(dispose, () => undefined);
    },
  };
}

/**
 * The model's own template when node-llama-cpp understands it; its general wrapper otherwise.
 * resolveChatWrapper already falls back for models without a template, but a template its Jinja
 * engine cannot render would throw, and that must not make an otherwise good model unloadable.
 */
function chooseChatWrapper(model: LlamaModel): ChatWrapper {
  try {
    return resolveChatWrapper(model);
  } catch {
    return new GeneralChatWrapper();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
