import type { OipInferRequest } from "../../core/oip-types.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatMessage,
  CompletionUsage,
  EmbeddingsRequest,
} from "../../core/openai-types.js";
import type { TokenCounter } from "./token-counter.js";

/** The billable quantities of one request, and where the token counts came from. */
export interface UsageCounts {
  inputTokens: number;
  outputTokens: number;
  items: number;
  /** `upstream`: the model reported usage (local runtimes always do, exactly); `counted`: gpt-tokenizer. */
  source: "upstream" | "counted" | "none";
}

function validCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Usage the upstream reported, when it is well-formed. */
export function reportedTokens(
  usage: CompletionUsage | null | undefined,
): { input: number; output: number } | undefined {
  if (usage === null || usage === undefined) return undefined;
  if (!validCount(usage.prompt_tokens) || !validCount(usage.completion_tokens)) return undefined;
  return { input: usage.prompt_tokens, output: usage.completion_tokens };
}

/** The text of every choice of a plain (non-stream) chat completion. */
export function completionText(completion: ChatCompletion): string {
  return completion.choices.map((choice) => choice.message.content ?? "").join("");
}

/**
 * Chat counts: the upstream's `usage` when it reports it; otherwise the prompt counted with the
 * chat encoding and the completion text counted as text. A stream cut short by the client has no
 * usage; its prompt and the text already sent are counted (what was delivered is billed).
 */
export function chatUsageCounts(input: {
  reported?: CompletionUsage | null | undefined;
  messages: readonly ChatMessage[];
  completionText: string;
  counter: TokenCounter;
}): UsageCounts {
  const reported = reportedTokens(input.reported);
  if (reported !== undefined) {
    return { inputTokens: reported.input, outputTokens: reported.output, items: 0, source: "upstream" };
  }
  return {
    inputTokens: input.counter.countChatPrompt(input.messages),
    outputTokens: input.counter.countText(input.completionText),
    items: 0,
    source: "counted",
  };
}

/** Embeddings counts: reported prompt tokens, else the text inputs counted (token-id inputs count as given). */
export function embeddingsUsageCounts(input: {
  reported?: { prompt_tokens?: unknown } | null | undefined;
  request: EmbeddingsRequest;
  counter: TokenCounter;
}): UsageCounts {
  const reportedPrompt = input.reported?.prompt_tokens;
  if (validCount(reportedPrompt)) return { inputTokens: reportedPrompt, outputTokens: 0, items: 0, source: "upstream" };
  const values = Array.isArray(input.request.input) ? input.request.input : [input.request.input];
  let tokens = 0;
  for (const value of values) {
    if (typeof value === "string") tokens += input.counter.countText(value);
    else if (Array.isArray(value)) tokens += value.length;
    else if (typeof value === "number") tokens += 1;
  }
  return { inputTokens: tokens, outputTokens: 0, items: 0, source: "counted" };
}

/**
 * Predict counts: one request, and items = the batch dimension (the first dimension of the
 * first input's shape; a scalar or shapeless input is one item). Tokens are 0.
 */
export function predictUsageCounts(request: OipInferRequest): UsageCounts {
  const first = request.inputs[0];
  const batch = first?.shape[0];
  const items = first === undefined ? 0 : first.shape.length === 0 || !validCount(batch) ? 1 : batch;
  return { inputTokens: 0, outputTokens: 0, items, source: "none" };
}

/**
 * Collects a stream's delivered completion text (`onChunk`) and its usage chunk, if any, so
 * metering works whether the stream ends, fails, or the client disconnects.
 */
export interface StreamUsageCollector {
  onChunk(chunk: ChatCompletionChunk): void;
  readonly text: string;
  readonly usage: CompletionUsage | undefined;
}

export function createStreamUsageCollector(): StreamUsageCollector {
  const pieces: string[] = [];
  let usage: CompletionUsage | undefined;
  return {
    onChunk(chunk) {
      for (const choice of chunk.choices) {
        if (typeof choice.delta.content === "string") pieces.push(choice.delta.content);
      }
      if (chunk.usage !== null && chunk.usage !== undefined) usage = chunk.usage;
    },
    get text() {
      return pieces.join("");
    },
    get usage() {
      return usage;
    },
  };
}
