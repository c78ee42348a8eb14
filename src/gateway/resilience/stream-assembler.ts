import type { ChatCompletion, ChatCompletionChunk, CompletionUsage } from "../../core/openai-types.js";

/**
 * Folds OpenAI chat chunks back into one ChatCompletion, so a streamed primary can be compared
 * with its (non-streamed) shadow by the same `compare` used for plain chat calls. Only text
 * content, role, finish reasons and usage are kept: tool-call deltas are not merged, so a compare
 * function that needs them must not rely on streamed primaries. Used only for sampled shadows, so
 * ordinary streams pay nothing.
 */
export interface ChatStreamAssembler {
  add(chunk: ChatCompletionChunk): void;
  result(): ChatCompletion;
}

export function createChatStreamAssembler(): ChatStreamAssembler {
  let id = "";
  let model = "";
  let created = 0;
  let usage: CompletionUsage | undefined;
  const contents: string[][] = [];
  const finishReasons: (string | null)[] = [];

  return {
    add(chunk) {
      if (!id) {
        id = chunk.id;
        model = chunk.model;
        created = chunk.created;
      }
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        const parts = contents[choice.index] ?? [];
        contents[choice.index] = parts;
        if (typeof choice.delta.content === "string") parts.push(choice.delta.content);
        if (choice.finish_reason != null) finishReasons[choice.index] = choice.finish_reason;
        else if (finishReasons[choice.index] === undefined) finishReasons[choice.index] = null;
      }
    },
    result() {
      const choices: ChatCompletion["choices"] = [];
      for (let index = 0; index < contents.length; index++) {
        const parts = contents[index];
        if (!parts) continue;
        choices.push({
          index,
          message: { role: "assistant", content: parts.join("") },
          finish_reason: finishReasons[index] ?? null,
        });
      }
      const completion: ChatCompletion = { id, object: "chat.completion", created, model, choices };
      if (usage) completion.usage = usage;
      return completion;
    },
  };
}
