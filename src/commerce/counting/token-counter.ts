import type { ChatMessage as OpenAIChatMessage } from "../../core/openai-types.js";

/** What gpt-tokenizer's chat encoder reads from a message. */
interface TokenizerChatMessage {
  role?: string;
  name?: string;
  content: string;
}

interface TokenizerModule {
  encodeChat(chat: readonly TokenizerChatMessage[], model?: never): number[];
  countTokens(input: string): number;
}

/**
 * Counts tokens with gpt-tokenizer's o200k encoding (GPT-4o's) when an upstream does not report
 * usage. The encoding tables take ~0.3 s and tens of MB to load, so they load once, on `load()`
 * (call it at start-up when any endpoint may need counting); counting itself is synchronous.
 */
export interface TokenCounter {
  load(): Promise<void>;
  readonly loaded: boolean;
  /** Prompt tokens of a chat request, with the chat template's per-message tokens (encodeChat). */
  countChatPrompt(messages: readonly OpenAIChatMessage[]): number;
  /** Tokens of plain text (a completion, an embeddings input). */
  countText(text: string): number;
}

/** Flattens OpenAI content (string, or an array of parts) and tool calls to the text that is tokenized. */
export function messageText(message: OpenAIChatMessage): string {
  const parts: string[] = [];
  const { content } = message;
  if (typeof content === "string") parts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) if (typeof part.text === "string") parts.push(part.text);
  }
  const toolCalls = message.tool_calls;
  if (Array.isArray(toolCalls)) {
    for (const call of toolCalls) {
      const fn = (call as { function?: { name?: unknown; arguments?: unknown } }).function;
      if (typeof fn?.name === "string") parts.push(fn.name);
      if (typeof fn?.arguments === "string") parts.push(fn.arguments);
    }
  }
  return parts.join("\n");
}

export function createTokenCounter(): TokenCounter {
  let tokenizer: TokenizerModule | undefined;
  let loading: Promise<void> | undefined;

  function required(): TokenizerModule {
    if (tokenizer === undefined) throw new Error("token counter used before load()");
    return tokenizer;
  }

  return {
    load() {
      loading ??= import("gpt-tokenizer/model/gpt-4o").then((module) => {
        tokenizer = module as unknown as TokenizerModule;
      });
      return loading;
    },
    get loaded() {
      return tokenizer !== undefined;
    },
    countChatPrompt(messages) {
      const chat: TokenizerChatMessage[] = messages.map((message) => ({
        // The tokenizer knows system/user/assistant/developer; tool and function turns are
        // rendered the same way by the chat template, so their role name is kept as is.
        role: message.role,
        ...(typeof message.name === "string" ? { name: message.name } : {}),
        content: messageText(message),
      }));
      return required().encodeChat(chat).length;
    },
    countText(text) {
      return text === "" ? 0 : required().countTokens(text);
    },
  };
}
