import type { Readable } from "node:stream";
import { type Dispatcher, Pool } from "undici";
import { ModelportError } from "../../core/errors.js";
import type {
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../../core/openai-types.js";
import type { InvokeContext, ModelRuntime } from "../../core/runtime.js";
import { type CallDeadline, startCallDeadline } from "./call-deadline.js";
import { createUpstreamChatStream, type OpenAIHttpChatStream } from "./chat-stream.js";
import { isConnectFailure, transportError, upstreamStatusError } from "./errors.js";

export interface OpenAIHttpRuntimeOptions {
  /** The upstream's OpenAI base URL, up to and including `/v1` (e.g. `http://127.0.0.1:8000/v1`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** Extra headers on every request (e.g. `OpenAI-Organization`); they override ours. */
  headers?: Record<string, string>;
  /** Keep-alive connections per origin (per connect timeout, see below). Default 128. */
  maxConnections?: number;
  /** How long an idle pooled connection is kept; the upstream's `Keep-Alive` hint can lower it. */
  keepAliveTimeoutMs?: number;
}

/** The runtime with its methods guaranteed, and streams that expose their usage for metering. */
export interface OpenAIHttpRuntime extends ModelRuntime {
  chat(request: ChatCompletionRequest, context: InvokeContext): Promise<ChatCompletion>;
  chatStream(request: ChatCompletionRequest, context: InvokeContext): Promise<OpenAIHttpChatStream>;
  embed(request: EmbeddingsRequest, context: InvokeContext): Promise<EmbeddingsResponse>;
}

/** After this many connection failures in a row the runtime reports not ready (until one works). */
const failuresBeforeNotReady = 3;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readText(body: Readable & { text(): Promise<string> }): Promise<string> {
  try {
    return await body.text();
  } catch (error) {
    throw transportError(error, "response");
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream answered with invalid JSON", { cause });
  }
}

/**
 * A runtime for any OpenAI-compatible HTTP upstream (OpenAI, vLLM, Ollama, llama.cpp server).
 * Requests go over pooled keep-alive connections (undici `Pool`, `request()` API). Per call:
 * connect timeout = `connectMs`, time to response headers = `firstByteMs`, whole call (stream
 * included) = `totalMs`, and the caller's signal cancels the upstream request.
 */
export function createOpenAIHttpRuntime(options: OpenAIHttpRuntimeOptions): OpenAIHttpRuntime {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch (cause) {
    throw new ModelportError("MP_CONFIG_INVALID", `openai-http baseUrl is not a URL: ${options.baseUrl}`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ModelportError("MP_CONFIG_INVALID", `openai-http baseUrl must be http(s): ${url.protocol}`);
  }
  const origin = url.origin;
  const pathPrefix = url.pathname.replace(/\/+$/, "");
  const chatPath = `${pathPrefix}/chat/completions`;
  const embeddingsPath = `${pathPrefix}/embeddings`;
  const { apiKey } = options;
  const maxConnections = options.maxConnections ?? 128;

  // Built once: every request sends the same headers object.
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;

  // undici sets the connect timeout per dispatcher, not per request. Timeouts come from config
  // (one value per endpoint), so a pool per distinct connectMs is one pool in practice.
  const pools = new Map<number, Pool>();
  const poolFor = (connectMs: number): Pool => {
    let pool = pools.get(connectMs);
    if (!pool) {
      pool = new Pool(origin, {
        connections: maxConnections,
        connect: { timeout: connectMs },
        ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeoutMs }),
      });
      pools.set(connectMs, pool);
    }
    return pool;
  };

  let consecutiveConnectFailures = 0;
  let closed = false;
  let closing: Promise<void> | undefined;

  async function post(
    path: string,
    payload: string,
    context: InvokeContext,
    deadline: CallDeadline,
  ): Promise<Dispatcher.ResponseData> {
    if (closed) throw new ModelportError("MP_SHUTTING_DOWN", "the openai-http runtime is closed");
    const { timeouts } = context;
    try {
      const response = await poolFor(timeouts.connectMs).request({
        path,
        method: "POST",
        // The shared headers object is copied only when a trace context has to go along.
        headers: context.traceHeaders ? { ...headers, ...context.traceHeaders } : headers,
        body: payload,
        signal: deadline.signal,
        // undici checks this on its shared coarse timer (fires within ~1 s after the limit): no
        // timer per request, and precise enough for first-byte limits of seconds.
        headersTimeout: timeouts.firstByteMs,
        // Gaps between body chunks; the whole call is bounded by the deadline anyway.
        bodyTimeout: timeouts.totalMs,
      });
      consecutiveConnectFailures = 0;
      return response;
    } catch (error) {
      if (isConnectFailure(error)) consecutiveConnectFailures++;
      throw transportError(error, "request");
    }
  }

  /** Sends a JSON call and returns the parsed 2xx body; non-2xx becomes the mapped error. */
  async function postJson(path: string, payload: string, context: InvokeContext): Promise<unknown> {
    const deadline = startCallDeadline(context);
    try {
      const sentAt = performance.now();
      const response = await post(path, payload, context, deadline);
      const text = await readText(response.body);
      if (context.timing) context.timing.waitMs += performance.now() - sentAt;
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw upstreamStatusError(response.statusCode, response.headers, text, apiKey);
      }
      return parseJson(text);
    } finally {
      deadline.done();
    }
  }

  return {
    type: "openai-http",
    kinds: ["chat", "embeddings"],

    async load() {
      // Connections open lazily on first use; there is nothing to load.
    },

    isReady() {
      return !closed && consecutiveConnectFailures < failuresBeforeNotReady;
    },

    async chat(request, context) {
      // A caller's stream flag would make the upstream answer SSE to a JSON call.
      const body = request.stream ? { ...request, stream: false, stream_options: undefined } : request;
      const parsed = await postJson(chatPath, JSON.stringify(body), context);
      if (!isObject(parsed) || !Array.isArray(parsed.choices)) {
        throw new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream chat completion has no choices array");
      }
      return parsed as ChatCompletion;
    },

    async chatStream(request, context) {
      const callerWantsUsage = request.stream_options?.include_usage === true;
      // Always ask for usage so the stream can be metered; the chunk is hidden from callers who
      // did not ask (see OpenAIHttpChatStream.usage).
      const payload = JSON.stringify({
        ...request,
        stream: true,
        stream_options: { ...request.stream_options, include_usage: true },
      });
      const deadline = startCallDeadline(context);
      try {
        const sentAt = performance.now();
        const response = await post(chatPath, payload, context, deadline);
        if (context.timing) context.timing.waitMs += performance.now() - sentAt;
        const { statusCode } = response;
        if (statusCode < 200 || statusCode >= 300) {
          const text = await readText(response.body);
          throw upstreamStatusError(statusCode, response.headers, text, apiKey);
        }
        // Lenient on a missing content type (some servers omit it); a JSON answer is not a stream.
        const contentType = response.headers["content-type"];
        if (typeof contentType === "string" && contentType.includes("application/json")) {
          await readText(response.body);
          throw new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream answered a stream request with JSON");
        }
        return createUpstreamChatStream({ body: response.body, deadline, callerWantsUsage, apiKey });
      } catch (error) {
        deadline.done();
        throw error;
      }
    },

    async embed(request, context) {
      const parsed = await postJson(embeddingsPath, JSON.stringify(request), context);
      if (!isObject(parsed) || !Array.isArray(parsed.data)) {
        throw new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "upstream embeddings response has no data array");
      }
      return parsed as EmbeddingsResponse;
    },

    close() {
      closed = true;
      // Pool.close() lets in-flight requests (streams included) finish; the gateway drains first.
      closing ??= Promise.all([...pools.values()].map((pool) => pool.close())).then(() => undefined);
      return closing;
    },
  };
}
