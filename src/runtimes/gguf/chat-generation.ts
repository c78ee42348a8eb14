import { LlamaChat, type LlamaChatResponse, type LlamaContextSequence } from "node-llama-cpp";
import { ModelportError } from "../../core/errors.js";
import { abortError } from "./abort-error.js";
import type { GenerationSettings, PreparedChat } from "./chat-request.js";
import { createEventQueue, type EventQueue } from "./event-queue.js";
import type { LoadedModel } from "./model-host.js";

export type GenerationEvent =
  | { type: "text"; text: string }
  | { type: "end"; finishReason: "stop" | "length"; completionTokens: number };

export interface Generation {
  readonly events: EventQueue<GenerationEvent>;
  /** Resolves at the first event (text or end); rejects if the generation fails before any. */
  readonly started: Promise<void>;
  /** Settles once the sequence is freed and `onFinished` has run. Never rejects. */
  readonly finished: Promise<void>;
  /** Stops generating (the consumer left); resolves once the sequence is freed. */
  cancel(): Promise<void>;
  /**
   * Tokens sampled, once the generation has finished however it ended (complete, cancelled,
   * aborted); undefined before, or if it failed before it had a sequence. Metering reads this.
   */
  completionTokens(): number | undefined;
}

export interface GenerationParams {
  loaded: LoadedModel;
  prepared: PreparedChat;
  /** Completion budget already capped to the room the prompt leaves in the context. */
  maxTokens: number;
  /** The request's signal: aborting it stops generation and fails the stream with MP_UPSTREAM_TIMEOUT. */
  signal: AbortSignal;
  /** Runs after the sequence is freed (release the permit and the model lease here). */
  onFinished: () => void;
}

/** Slow consumers get text merged into fewer chunks beyond this many queued events. */
const QUEUE_LIMIT = 64;

/**
 * Runs one chat generation on a fresh context sequence, so no KV-cache state leaks between
 * requests, and reports its text through a bounded event queue. It starts at once and cleans up
 * after itself whether the consumer reads to the end, stops early (`cancel`) or never reads.
 */
export function startGeneration(params: GenerationParams): Generation {
  const { loaded, prepared, maxTokens, signal, onFinished } = params;
  const events = createEventQueue<GenerationEvent>({
    limit: QUEUE_LIMIT,
    merge: (previous, next) =>
      previous.type === "text" && next.type === "text" ? { type: "text", text: previous.text + next.text } : undefined,
  });
  // One controller for both ways to stop: the request's signal and the consumer leaving.
  const controller = new AbortController();
  const onRequestAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onRequestAbort, { once: true });

  let markStarted: () => void = () => {};
  let failStart: (error: unknown) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    markStarted = resolve;
    failStart = reject;
  });
  started.catch(() => {}); // observed by the caller; never an unhandled rejection here

  const push = (event: GenerationEvent) => {
    events.push(event);
    markStarted();
  };
  const fail = (error: unknown) => {
    events.fail(error);
    failStart(error);
  };

  let finalCompletionTokens: number | undefined;
  const finished = (async () => {
    let sequence: LlamaContextSequence | undefined;
    try {
      if (signal.aborted) throw abortError(signal, "chat generation");
      sequence = loaded.context.getSequence();
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: loaded.chatWrapper });
      let result: LlamaChatResponse;
      try {
        result = await chat.generateResponse(prepared.history, {
          ...samplingOptions(prepared.settings),
          maxTokens,
          signal: controller.signal,
          // Return what was generated instead of throwing; we decide below whether that is an error.
          stopOnAbortSignal: true,
          onTextChunk: (text) => {
            if (text !== "") push({ type: "text", text });
          },
        });
      } finally {
        chat.dispose();
      }
      if (signal.aborted) throw abortError(signal, "chat generation");
      if (controller.signal.aborted) return events.end(); // the consumer left; nobody is reading
      push({
        type: "end",
        finishReason: result.metadata.stopReason === "maxTokens" ? "length" : "stop",
        completionTokens: sampledTokens(sequence),
      });
      events.end();
    } catch (error) {
      if (signal.aborted) fail(abortError(signal, "chat generation"));
      else if (controller.signal.aborted) events.end();
      else if (error instanceof ModelportError) fail(error);
      else
        fail(
          new ModelportError("MP_RUNTIME_ERROR", `llama.cpp generation failed: ${messageOf(error)}`, { cause: error }),
        );
    } finally {
      signal.removeEventListener("abort", onRequestAbort);
      if (sequence) finalCompletionTokens = sampledTokens(sequence);
      await sequence?.dispose().catch(() => {}); // returns the sequence id to the context's pool
      failStart(new ModelportError("MP_RUNTIME_ERROR", "generation ended without output"));
      onFinished();
    }
  })();

  return {
    events,
    started,
    finished,
    async cancel() {
      controller.abort();
      await finished;
    },
    completionTokens: () => finalCompletionTokens,
  };
}

/**
 * Tokens the model sampled on this (fresh) sequence. node-llama-cpp's token meter counts a token
 * as "output" when logits were computed for it, and each sampled token needs exactly one logits
 * row (the prompt's last position, then each generated token fed back). So this counts every
 * generated token, including an end-of-generation token and text cut by a stop sequence, which
 * the text callbacks never show (they also hold back incomplete UTF-8 bytes).
 */
function sampledTokens(sequence: LlamaContextSequence): number {
  return sequence.tokenMeter.getState().usedOutputTokens;
}

function samplingOptions(settings: GenerationSettings) {
  const penalize = settings.frequencyPenalty !== undefined || settings.presencePenalty !== undefined;
  return {
    temperature: settings.temperature,
    ...(settings.topP === undefined ? {} : { topP: settings.topP }),
    ...(settings.topK === undefined ? {} : { topK: settings.topK }),
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    ...(settings.stop.length === 0 ? {} : { customStopTriggers: settings.stop }),
    // OpenAI applies no repetition penalty unless asked; node-llama-cpp's default (1.1) would.
    repeatPenalty: penalize
      ? {
          penalty: 1,
          frequencyPenalty: settings.frequencyPenalty ?? 0,
          presencePenalty: settings.presencePenalty ?? 0,
        }
      : (false as const),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
