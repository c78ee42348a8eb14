import { ModelportError, toModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from "../../core/openai-types.js";
import type { ChatStream, EndpointKind, InvokeContext, ModelRuntime } from "../../core/runtime.js";
import { abortError, throwIfAborted } from "./abort-error.js";
import { type Generation, type GenerationEvent, startGeneration } from "./chat-generation.js";
import { prepareChat } from "./chat-request.js";
import { embedInputs, readEmbeddingInputs } from "./embeddings.js";
import { createModelHost, type LoadedModel } from "./model-host.js";
import { planPrompt } from "./prompt-budget.js";
import { createSemaphore } from "./semaphore.js";

export interface GgufRuntimeOptions {
  /** Path of the .gguf file. */
  path: string;
  /** Tokens per sequence (prompt + completion). Default: the model's training context, at most 4096. */
  contextSize?: number;
  /** Requests generating at once (context sequences); more wait in line. Default 2. */
  maxConcurrency?: number;
  /** Unload the model after this long without requests; 0 keeps it loaded. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** CPU threads per evaluation. Default: node-llama-cpp's choice (the math cores). */
  threads?: number;
  /** Serve the embeddings kind too. Default true. */
  embeddings?: boolean;
}

/** The gguf runtime plus what tests and the admin view may inspect. */
export interface GgufRuntime extends ModelRuntime {
  chat(request: ChatCompletionRequest, context: InvokeContext): Promise<ChatCompletion>;
  chatStream(request: ChatCompletionRequest, context: InvokeContext): Promise<ChatStream>;
  /** True while the model's weights are in memory. */
  isLoaded(): boolean;
  /** How many times the model has been loaded (1 + reloads after idle unloads). */
  readonly loadCount: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MAX_CONCURRENCY = 2;

/**
 * A ModelRuntime over llama.cpp (node-llama-cpp, CPU only) for one GGUF file.
 *
 * - Loading is lazy, shared and concurrency-safe (see model-host.ts); idle models unload.
 * - Chat uses one LlamaChat on a fresh context sequence per request; `maxConcurrency` sequences
 *   exist and a FIFO semaphore makes extra requests wait for one.
 * - The chat template comes from the model (`tokenizer.chat_template`) through node-llama-cpp's
 *   resolveChatWrapper: known templates map to their specialised wrappers (ChatML, Llama 3, ...),
 *   others are rendered by its Jinja wrapper, and a model without a template gets its general one.
 * - `chat()` is the stream collected, so both share one code path (abort, cleanup, usage).
 */
export function createGgufRuntime(options: GgufRuntimeOptions): GgufRuntime {
  validateOptions(options);
  const maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  const host = createModelHost({
    path: options.path,
    sequences: maxConcurrency,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  const sequences = createSemaphore(maxConcurrency);
  const kinds: EndpointKind[] = options.embeddings === false ? ["chat"] : ["chat", "embeddings"];

  async function startChat(request: ChatCompletionRequest, context: InvokeContext): Promise<ActiveChat> {
    throwIfAborted(context.signal, "chat request");
    const prepared = prepareChat(request);
    const lease = await host.acquire();
    let generation: Generation | undefined;
    try {
      const budget = planPrompt(lease.loaded, prepared);
      const releaseSequence = await sequences.acquire(context.signal).catch(() => {
        throw abortError(context.signal, "chat request (waiting for a free sequence)");
      });
      generation = startGeneration({
        loaded: lease.loaded,
        prepared,
        maxTokens: budget.maxTokens,
        signal: context.signal,
        onFinished: () => {
          releaseSequence();
          lease.release();
        },
      });
      await generation.started;
      return { generation, promptTokens: budget.promptTokens };
    } catch (error) {
      // Once a generation exists it owns the lease; wait for it to free its sequence first.
      if (generation) await generation.finished;
      else lease.release();
      throw error;
    }
  }

  const runtime: GgufRuntime = {
    type: "gguf",
    kinds,
    get loadCount() {
      return host.loadCount;
    },
    async load() {
      const lease = await host.acquire();
      lease.release();
    },
    isReady: () => host.isReady(),
    isLoaded: () => host.isLoaded(),

    async chatStream(request, context) {
      const active = await startChat(request, context);
      return {
        chunks: toChunks(active, request, context.signal),
        // Known once generation has ended, also when the consumer left early: metering bills
        // the tokens that were generated, whatever the client asked to see.
        usage() {
          const completionTokens = active.generation.completionTokens();
          if (completionTokens === undefined) return undefined;
          return {
            prompt_tokens: active.promptTokens,
            completion_tokens: completionTokens,
            total_tokens: active.promptTokens + completionTokens,
          };
        },
      };
    },

    async chat(request, context) {
      const active = await startChat(request, context);
      return collect(active, request);
    },

    async close() {
      await host.close();
    },
  };
  if (options.embeddings !== false) {
    runtime.embed = async (request, context) => {
      throwIfAborted(context.signal, "embeddings request");
      const lease = await host.acquire();
      try {
        const inputs = readEmbeddingInputs(request, vocabularySize(lease.loaded));
        return await embedInputs(lease.loaded, request, inputs, context.signal);
      } catch (error) {
        throw toModelportError(error, "MP_RUNTIME_ERROR"); // native failures arrive as plain Errors
      } finally {
        lease.release();
      }
    };
  }
  return runtime;
}

function validateOptions(options: GgufRuntimeOptions): void {
  const fail = (message: string) => {
    throw new ModelportError("MP_CONFIG_INVALID", `gguf runtime: ${message}`);
  };
  if (typeof options.path !== "string" || options.path === "") fail("path must be a non-empty string");
  const positive = (value: number | undefined, name: string, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min))
      fail(`${name} must be an integer >= ${min}, got ${value}`);
  };
  positive(options.contextSize, "contextSize", 16);
  positive(options.maxConcurrency, "maxConcurrency", 1);
  positive(options.idleTimeoutMs, "idleTimeoutMs", 0);
  positive(options.threads, "threads", 0);
}

interface ActiveChat {
  generation: Generation;
  promptTokens: number;
}

/**
 * The OpenAI chunk sequence: a role chunk, content chunks, a finish_reason chunk, and a usage
 * chunk (empty choices) when `stream_options.include_usage` asks for it. An aborted request
 * signal ends it with the abort's ModelportError. `return()` (a `break`
 * in for-await) stops generation and resolves once the sequence is free, even if the consumer
 * never called `next()`; an async generator alone would skip its `finally` in that case.
 */
function toChunks(
  active: ActiveChat,
  request: ChatCompletionRequest,
  signal: AbortSignal,
): AsyncIterable<ChatCompletionChunk> {
  const { generation, promptTokens } = active;
  const id = randomId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: ChatCompletionChunk["choices"], extra: Partial<ChatCompletionChunk> = {}) => ({
    id,
    object: "chat.completion.chunk" as const,
    created,
    model: request.model,
    choices,
    ...extra,
  });
  const includeUsage = request.stream_options?.include_usage === true;

  async function* produce(): AsyncGenerator<ChatCompletionChunk, void, undefined> {
    try {
      yield chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
      while (true) {
        const next = await generation.events.next();
        // Once the request is aborted (timeout, client gone) nothing more is delivered, even text
        // generated before the abort and still queued.
        throwIfAborted(signal, "chat stream");
        if (next.done) return;
        const event: GenerationEvent = next.value;
        if (event.type === "text") {
          yield chunk([{ index: 0, delta: { content: event.text }, finish_reason: null }]);
          continue;
        }
        yield chunk([{ index: 0, delta: {}, finish_reason: event.finishReason }]);
        if (includeUsage) {
          const usage = {
            prompt_tokens: promptTokens,
            completion_tokens: event.completionTokens,
            total_tokens: promptTokens + event.completionTokens,
          };
          yield chunk([], { usage });
        }
      }
    } finally {
      await generation.cancel(); // a no-op wait when generation already ended
    }
  }

  const iterator = produce();
  return {
    [Symbol.asyncIterator]() {
      return {
        next: () => iterator.next(),
        async return() {
          await generation.cancel();
          return iterator.return(undefined);
        },
        throw: (error: unknown) => iterator.throw(error),
      };
    },
  };
}

async function collect(active: ActiveChat, request: ChatCompletionRequest): Promise<ChatCompletion> {
  const { generation, promptTokens } = active;
  let content = "";
  while (true) {
    const next = await generation.events.next().catch(async (error: unknown) => {
      await generation.finished; // reject only once the sequence is free again
      throw error;
    });
    if (next.done) break;
    const event = next.value;
    if (event.type === "text") {
      content += event.text;
      continue;
    }
    return {
      id: randomId("chatcmpl"),
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [
        { index: 0, message: { role: "assistant", content }, finish_reason: event.finishReason, logprobs: null },
      ],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: event.completionTokens,
        total_tokens: promptTokens + event.completionTokens,
      },
    };
  }
  // Only reachable if the generation was cancelled, which chat() never does.
  throw new ModelportError("MP_RUNTIME_ERROR", "chat generation ended without a result");
}

function vocabularySize(loaded: LoadedModel): number | undefined {
  const metadata = loaded.model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: unknown } } };
  const tokens = metadata.tokenizer?.ggml?.tokens;
  return Array.isArray(tokens) ? tokens.length : undefined;
}
