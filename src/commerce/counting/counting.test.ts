import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createTokenCounter, messageText } from "./token-counter.js";
import {
  chatUsageCounts,
  completionText,
  createStreamUsageCollector,
  embeddingsUsageCounts,
  predictUsageCounts,
  reportedTokens,
} from "./usage-counts.js";

const counter = createTokenCounter();

describe("token counting", () => {
  before(async () => {
    assert.equal(counter.loaded, false);
    assert.throws(() => counter.countText("hi"), /before load/);
    await counter.load();
  });

  it("counts text and chat prompts with the o200k (GPT-4o) encoding", () => {
    assert.equal(counter.countText(""), 0);
    assert.equal(counter.countText("Hello there"), 2);
    const messages = [{ role: "user" as const, content: "Hello there" }];
    const prompt = counter.countChatPrompt(messages);
    assert.ok(prompt > 2, "the chat template adds tokens around each message");
    const two = counter.countChatPrompt([...messages, { role: "assistant" as const, content: "Hi! How can I help?" }]);
    assert.ok(two > prompt + counter.countText("Hi! How can I help?") - 1);
  });

  it("flattens content parts and tool calls", () => {
    assert.equal(
      messageText({
        role: "user",
        content: [{ type: "text", text: "a" }, { type: "image_url" }, { type: "text", text: "b" }],
      }),
      "a\nb",
    );
    assert.equal(
      messageText({
        role: "assistant",
        content: null,
        tool_calls: [{ function: { name: "f", arguments: '{"x":1}' } }],
      }),
      'f\n{"x":1}',
    );
  });

  it("chat: the upstream's usage wins; without it, prompt and completion are counted", () => {
    const messages = [{ role: "user" as const, content: "Count me" }];
    assert.deepEqual(
      chatUsageCounts({
        reported: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
        messages,
        completionText: "x",
        counter,
      }),
      { inputTokens: 11, outputTokens: 7, items: 0, source: "upstream" },
    );
    const counted = chatUsageCounts({ reported: undefined, messages, completionText: "Hello there", counter });
    assert.deepEqual(counted, {
      inputTokens: counter.countChatPrompt(messages),
      outputTokens: 2,
      items: 0,
      source: "counted",
    });
    // Malformed usage (negative, fractional) is not trusted.
    assert.equal(reportedTokens({ prompt_tokens: -1, completion_tokens: 2, total_tokens: 1 }), undefined);
    assert.equal(
      chatUsageCounts({
        reported: { prompt_tokens: 1.5, completion_tokens: 0, total_tokens: 0 },
        messages,
        completionText: "",
        counter,
      }).source,
      "counted",
    );
  });

  it("a stream collector keeps delivered text and the usage chunk (for client disconnects)", () => {
    const collector = createStreamUsageCollector();
    const chunk = (
      content: string | undefined,
      usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number },
    ) => ({
      id: "c",
      object: "chat.completion.chunk" as const,
      created: 0,
      model: "m",
      choices: content === undefined ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
      ...(usage === undefined ? {} : { usage }),
    });
    collector.onChunk(chunk("Hello"));
    collector.onChunk(chunk(" there"));
    assert.equal(collector.text, "Hello there");
    assert.equal(collector.usage, undefined);
    collector.onChunk(chunk(undefined, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }));
    assert.equal(Reflect.get(collector, "usage")?.completion_tokens, 2);
  });

  it("completionText joins every choice", () => {
    assert.equal(
      completionText({
        id: "x",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [
          { index: 0, message: { role: "assistant", content: "a" }, finish_reason: "stop" },
          { index: 1, message: { role: "assistant", content: null }, finish_reason: "stop" },
        ],
      }),
      "a",
    );
  });

  it("embeddings: reported prompt tokens, else strings counted and token arrays by length", () => {
    assert.equal(
      embeddingsUsageCounts({ reported: { prompt_tokens: 9 }, request: { model: "e", input: "x" }, counter })
        .inputTokens,
      9,
    );
    assert.deepEqual(
      embeddingsUsageCounts({
        reported: null,
        request: { model: "e", input: ["Hello there", "Hello there"] },
        counter,
      }),
      {
        inputTokens: 4,
        outputTokens: 0,
        items: 0,
        source: "counted",
      },
    );
    assert.equal(embeddingsUsageCounts({ request: { model: "e", input: [[1, 2, 3], [4]] }, counter }).inputTokens, 4);
  });
});

describe("predict counting", () => {
  it("counts the batch dimension of the first input as items", () => {
    const tensor = (shape: number[]) => ({ name: "x", datatype: "FP32" as const, shape, data: [] });
    assert.equal(predictUsageCounts({ inputs: [tensor([8, 4])] }).items, 8);
    assert.equal(predictUsageCounts({ inputs: [tensor([])] }).items, 1, "a scalar is one item");
    assert.equal(predictUsageCounts({ inputs: [tensor([-1, 4])] }).items, 1, "a nonsense dimension counts as one");
    assert.equal(predictUsageCounts({ inputs: [] }).items, 0);
    assert.equal(predictUsageCounts({ inputs: [tensor([3])] }).inputTokens, 0);
  });
});
