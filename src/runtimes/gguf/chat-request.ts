import type { ChatHistoryItem } from "node-llama-cpp";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletionRequest, ChatMessage } from "../../core/openai-types.js";

/** Sampling and length settings for one generation, in node-llama-cpp's terms. */
export interface GenerationSettings {
  /** Requested completion length; capped later by the room left in the context. */
  maxTokens: number;
  temperature: number;
  topP: number | undefined;
  topK: number | undefined;
  seed: number | undefined;
  stop: string[];
  frequencyPenalty: number | undefined;
  presencePenalty: number | undefined;
}

export interface PreparedChat {
  history: ChatHistoryItem[];
  settings: GenerationSettings;
}

export const DEFAULT_MAX_TOKENS = 256;

const invalid = (message: string, param: string) => new ModelportError("MP_INVALID_REQUEST", message, { param });
const unsupported = (message: string, param: string) => new ModelportError("MP_UNSUPPORTED", message, { param });

/**
 * Validates an OpenAI chat request and translates it into a node-llama-cpp chat history. Runs
 * before the model is touched, so bad requests fail fast and never take a sequence. Features this
 * runtime cannot honour (tools, images, n > 1, structured output) are rejected rather than
 * silently ignored: a client relying on them would get a wrong answer otherwise.
 */
export function prepareChat(request: ChatCompletionRequest): PreparedChat {
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    throw invalid("messages must be a non-empty array", "messages");
  if (Array.isArray(request.tools) && request.tools.length > 0)
    throw unsupported("the gguf runtime does not support tools", "tools");
  if (request.n != null && request.n !== 1) throw unsupported("the gguf runtime generates one choice (n = 1)", "n");
  const format = request.response_format as { type?: unknown } | null | undefined;
  if (format != null && format.type !== "text")
    throw unsupported("the gguf runtime supports only text responses", "response_format");

  return {
    history: request.messages.map((message, index) => toHistoryItem(message, index)),
    settings: readSettings(request),
  };
}

function toHistoryItem(message: ChatMessage, index: number): ChatHistoryItem {
  const text = contentText(message, index);
  switch (message.role) {
    case "system":
    case "developer":
      return { type: "system", text };
    case "user":
      return { type: "user", text };
    case "assistant":
      if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0)
        throw unsupported("the gguf runtime does not support tool calls", `messages.${index}.tool_calls`);
      return { type: "model", response: [text] };
    case "tool":
    case "function":
      throw unsupported(`the gguf runtime does not support ${message.role} messages`, `messages.${index}.role`);
    default:
      throw invalid(`unknown message role: ${String(message.role)}`, `messages.${index}.role`);
  }
}

/** String content as is; content parts: the text parts joined (OpenAI concatenates them too). */
function contentText(message: ChatMessage, index: number): string {
  const { content } = message;
  if (content == null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content))
    throw invalid("content must be a string or an array of parts", `messages.${index}.content`);
  return content
    .map((part, partIndex) => {
      if (part?.type !== "text" || typeof part.text !== "string")
        throw unsupported(
          `the gguf runtime accepts only text content parts, got ${String(part?.type)}`,
          `messages.${index}.content.${partIndex}`,
        );
      return part.text;
    })
    .join("");
}

function readSettings(request: ChatCompletionRequest): GenerationSettings {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  const param = request.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens";
  if (maxTokens != null && !(Number.isInteger(maxTokens) && maxTokens >= 1))
    throw invalid(`${param} must be a positive integer`, param);
  return {
    maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS,
    // OpenAI's defaults: temperature 1, top_p 1 (no nucleus cut).
    temperature: readNumber(request.temperature, "temperature", 0, 2) ?? 1,
    topP: readNumber(request.top_p, "top_p", 0, 1),
    topK: readInteger(request.top_k, "top_k"),
    seed: toUint32(readInteger(request.seed, "seed")),
    stop: readStop(request.stop),
    frequencyPenalty: readNumber(request.frequency_penalty, "frequency_penalty", -2, 2),
    presencePenalty: readNumber(request.presence_penalty, "presence_penalty", -2, 2),
  };
}

function readNumber(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
    throw invalid(`${param} must be a number between ${min} and ${max}`, param);
  return value;
}

function readInteger(value: unknown, param: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalid(`${param} must be an integer`, param);
  return value;
}

/** llama.cpp seeds are uint32; OpenAI's are any integer, so wrap instead of rejecting. */
function toUint32(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const modulus = 2 ** 32;
  return ((value % modulus) + modulus) % modulus;
}

function readStop(stop: ChatCompletionRequest["stop"]): string[] {
  if (stop == null) return [];
  const list = typeof stop === "string" ? [stop] : stop;
  if (!Array.isArray(list) || list.some((item) => typeof item !== "string"))
    throw invalid("stop must be a string or an array of strings", "stop");
  if (list.length > 4) throw invalid("stop accepts at most 4 sequences", "stop");
  return list.filter((item) => item.length > 0);
}
