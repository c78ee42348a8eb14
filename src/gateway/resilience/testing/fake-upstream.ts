import { ModelportError } from "../../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from "../../../core/openai-types.js";
import type { ChatStream, EndpointKind, InvokeContext, ModelRuntime } from "../../../core/runtime.js";
import type { EndpointRoute, RouteTarget } from "../route.js";

/**
 * Test support for router tests: scripted stand-ins for *upstreams* (an OpenAI server, a model
 * engine), not for any Modelport component. Each call runs the script with its 1-based call number.
 */
export interface UpstreamScript {
  chat?: (call: number, context: InvokeContext) => Promise<ChatCompletion>;
  chatStream?: (call: number, context: InvokeContext) => Promise<ChatStream>;
}

export class FakeUpstream implements ModelRuntime {
  readonly type = "fake";
  readonly kinds: readonly EndpointKind[] = ["chat"];
  chatCalls = 0;
  streamCalls = 0;
  readonly contexts: InvokeContext[] = [];

  constructor(private readonly script: UpstreamScript) {}

  async load(): Promise<void> {}
  isReady(): boolean {
    return true;
  }
  async close(): Promise<void> {}

  chat(_request: ChatCompletionRequest, context: InvokeContext): Promise<ChatCompletion> {
    this.contexts.push(context);
    const call = ++this.chatCalls;
    if (!this.script.chat) return Promise.reject(new ModelportError("MP_UNSUPPORTED", "no chat"));
    return this.script.chat(call, context);
  }

  chatStream(_request: ChatCompletionRequest, context: InvokeContext): Promise<ChatStream> {
    this.contexts.push(context);
    const call = ++this.streamCalls;
    if (!this.script.chatStream) return Promise.reject(new ModelportError("MP_UNSUPPORTED", "no stream"));
    return this.script.chatStream(call, context);
  }
}

export function completion(text: string): ChatCompletion {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
  };
}

export function chunk(text: string, finish: string | null = null): ChatCompletionChunk {
  return {
    id: "chatcmpl-test",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content: text }, finish_reason: finish }],
  };
}

export interface ScriptedStream extends ChatStream {
  /** True once the generator was released (its `finally` ran). */
  readonly released: boolean;
  /** Chunks the consumer pulled from the upstream. */
  readonly pulled: number;
}

/** An upstream chunk stream: yields `texts`, then throws `failWith` if given. */
export function scriptedStream(texts: string[], failWith?: unknown): ScriptedStream {
  const state = { released: false, pulled: 0 };
  async function* generate(): AsyncGenerator<ChatCompletionChunk> {
    try {
      for (const [index, text] of texts.entries()) {
        state.pulled++;
        yield chunk(text, failWith === undefined && index === texts.length - 1 ? "stop" : null);
      }
      if (failWith !== undefined) throw failWith;
    } finally {
      state.released = true;
    }
  }
  return {
    chunks: generate(),
    get released() {
      return state.released;
    },
    get pulled() {
      return state.pulled;
    },
  };
}

/** A promise that never settles: an upstream that ignores its abort signal. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

export const retryable = (message = "upstream 503") => new ModelportError("MP_UPSTREAM_UNAVAILABLE", message);

export function target(id: string, runtime: ModelRuntime, weight = 1): RouteTarget {
  return { id, runtime, model: id.split("/")[1] ?? id, weight };
}

export function makeRoute(overrides: Partial<EndpointRoute> & Pick<EndpointRoute, "targets">): EndpointRoute {
  return {
    name: "chat-small",
    kind: "chat",
    fallbacks: [],
    shadows: [],
    retry: { maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    timeouts: { connectMs: 1_000, firstByteMs: 2_000, totalMs: 10_000 },
    breaker: { failureThreshold: 5, cooldownMs: 30_000, halfOpenMaxRequests: 1 },
    ...overrides,
  };
}

/** The chat call a protocol handler would pass to `router.execute`. */
export function callChat(routeTarget: RouteTarget, context: InvokeContext): Promise<ChatCompletion> {
  const runtime = routeTarget.runtime;
  if (!runtime.chat) throw new Error("runtime without chat");
  return runtime.chat({ model: routeTarget.model, messages: [{ role: "user", content: "hi" }] }, context);
}

export function startChatStream(routeTarget: RouteTarget, context: InvokeContext): Promise<ChatStream> {
  const runtime = routeTarget.runtime;
  if (!runtime.chatStream) throw new Error("runtime without chatStream");
  return runtime.chatStream({ model: routeTarget.model, messages: [], stream: true }, context);
}

/** A seeded PRNG (mulberry32) for reproducible splits. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}
