import type { OipInferRequest, OipInferResponse, OipTensorMetadata } from "./oip-types.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionUsage,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "./openai-types.js";

/** The three kinds of endpoint. A runtime supports one or more of them. */
export type EndpointKind = "chat" | "embeddings" | "predict";

export interface RuntimeTimeouts {
  /** Time allowed to open a connection to an upstream. */
  connectMs: number;
  /** Time allowed until the first byte of a response (or first token of a stream). */
  firstByteMs: number;
  /** Time allowed for the whole call, streams included. */
  totalMs: number;
}

/** What every runtime call receives besides its request. */
export interface InvokeContext {
  /** Aborted when the client goes away or a timeout fires; runtimes must stop work promptly. */
  signal: AbortSignal;
  requestId: string;
  timeouts: RuntimeTimeouts;
  /**
   * When present, the runtime adds the time it spent waiting on the model (network round trip and
   * generation, to the first byte for streams) to `waitMs`; the gateway reports the rest of a
   * request's time as its own overhead. Runtimes that leave it at 0 are timed by the router.
   */
  timing?: { waitMs: number };
  /**
   * Trace-context headers (W3C traceparent, tracestate) naming this attempt's span, present only
   * when tracing is enabled. Runtimes that call over HTTP send them with the request.
   */
  traceHeaders?: Readonly<Record<string, string>>;
}

/**
 * A started stream. `chunks` yields OpenAI chat chunks; the iterator's `return()` (a `break` in
 * `for await`) must release the upstream (cancel the request, free the sequence).
 */
export interface ChatStream {
  chunks: AsyncIterable<ChatCompletionChunk>;
  /**
   * Token usage once the stream has ended. Runtimes always learn it (upstreams are asked for it),
   * even when the caller did not ask for a usage chunk, so metering never depends on the client.
   */
  usage?(): CompletionUsage | undefined;
}

export interface PredictMetadata {
  platform: string;
  inputs: OipTensorMetadata[];
  outputs: OipTensorMetadata[];
}

/**
 * The port every model engine implements: an OpenAI-compatible upstream, onnxruntime, TensorFlow.js
 * or llama.cpp. Requests and results are in OpenAI's (chat, embeddings) or OIP v2's (predict) wire
 * shapes. `model` in a request is the runtime-side model name (the target's `model`), already
 * rewritten by the router. Runtimes throw ModelportError with an upstream/runtime code on failure.
 * `load()` is idempotent; a runtime may load lazily on first use and unload when idle.
 */
export interface ModelRuntime {
  /** `openai-http`, `onnx`, `tfjs` or `gguf`. */
  readonly type: string;
  /** Endpoint kinds this runtime can serve. */
  readonly kinds: readonly EndpointKind[];
  load(): Promise<void>;
  /** True when a request would be served without a load or connection failure we know of. */
  isReady(): boolean;
  chat?(request: ChatCompletionRequest, context: InvokeContext): Promise<ChatCompletion>;
  /** Resolves once the stream is established (upstream answered); chunks then arrive lazily. */
  chatStream?(request: ChatCompletionRequest, context: InvokeContext): Promise<ChatStream>;
  embed?(request: EmbeddingsRequest, context: InvokeContext): Promise<EmbeddingsResponse>;
  predict?(request: OipInferRequest, context: InvokeContext): Promise<Omit<OipInferResponse, "model_name">>;
  predictMetadata?(): Promise<PredictMetadata>;
  /** Releases engines, sockets and memory. Safe to call twice. */
  close(): Promise<void>;
}
