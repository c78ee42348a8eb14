import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatCompletionChunk } from "../../core/openai-types.js";
import { createChatStreamAssembler } from "./stream-assembler.js";

function chunk(choices: ChatCompletionChunk["choices"], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk {
  return { id: "chatcmpl-1", object: "chat.completion.chunk", created: 7, model: "m", choices, ...extra };
}

describe("createChatStreamAssembler", () => {
  it("joins content per choice and keeps finish reasons and usage", () => {
    const assembler = createChatStreamAssembler();
    assembler.add(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: { content: "Hel" }, finish_reason: null }]));
    assembler.add(chunk([{ index: 1, delta: { content: "Other" }, finish_reason: null }]));
    assembler.add(chunk([{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }]));
    assembler.add(chunk([], { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
    assert.deepEqual(assembler.result(), {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 7,
      model: "m",
      choices: [
        { index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" },
        { index: 1, message: { role: "assistant", content: "Other" }, finish_reason: null },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it("produces an empty completion for an empty stream", () => {
    const result = createChatStreamAssembler().result();
    assert.deepEqual(result.choices, []);
    assert.equal(result.usage, undefined);
  });
});
