import type { ChatHistoryItem } from "node-llama-cpp";
import { ModelportError } from "../../core/errors.js";
import type { PreparedChat } from "./chat-request.js";
import type { LoadedModel } from "./model-host.js";

export interface PromptBudget {
  /** Tokens of the prompt exactly as LlamaChat evaluates it (chat template applied, BOS included). */
  promptTokens: number;
  /** The requested completion length, capped to the room left in one sequence. */
  maxTokens: number;
}

/**
 * Counts the prompt the way LlamaChat builds it (the chat wrapper's context text for the history
 * plus an empty model turn, tokenized with the model's tokenizer) and checks it fits. LlamaChat
 * would otherwise "context shift" an oversized history, silently dropping messages; a gateway
 * must say so instead (OpenAI answers 400 `context_length_exceeded`).
 *
 * A sequence holds `contextSize` tokens; LlamaChat keeps one free, and the last sampled token is
 * never evaluated, so a completion can be `contextSize - promptTokens - 1` tokens long.
 * An explicit max_tokens beyond that is capped (finish_reason "length" tells the client), as
 * llama.cpp's own server does, rather than rejected.
 */
export function planPrompt(loaded: LoadedModel, prepared: PreparedChat): PromptBudget {
  const promptTokens = countPromptTokens(loaded, prepared.history);
  const room = loaded.contextSize - promptTokens - 1;
  if (room < 1)
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `This model's context holds ${loaded.contextSize} tokens, but the messages take ${promptTokens} tokens ` +
        "and leave no room for a reply. Shorten the messages.",
      { param: "messages" },
    );
  return { promptTokens, maxTokens: Math.min(prepared.settings.maxTokens, room) };
}

export function countPromptTokens(loaded: LoadedModel, history: readonly ChatHistoryItem[]): number {
  const chatHistory: ChatHistoryItem[] =
    history.at(-1)?.type === "model" ? [...history] : [...history, { type: "model", response: [] }];
  const { contextText } = loaded.chatWrapper.generateContextState({ chatHistory });
  return contextText.tokenize(loaded.model.tokenizer).length;
}
