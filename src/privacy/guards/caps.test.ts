import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatCompletionRequest } from "../../core/openai-types.js";
import { capsPolicySchema, checkCaps } from "./caps.js";
import { estimateTokens } from "./message-text.js";

const base = (extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: "m",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Hello there" },
  ],
  ...extra,
});

const rules = (result: ReturnType<typeof checkCaps>): string[] => result.findings.map((finding) => finding.rule);

describe("checkCaps: input size", () => {
  it("allows a request within every limit", () => {
    const result = checkCaps(base({ max_tokens: 10 }), {
      maxMessages: 2,
      maxMessageChars: 20,
      maxTotalChars: 100,
      maxMessageTokens: 10,
      maxTotalTokens: 20,
      maxOutputTokens: 10,
    });
    assert.deepEqual(result, { verdict: "allow", findings: [] });
  });

  it("blocks too many messages, a long message, and a long total", () => {
    const request = base({
      messages: [
        { role: "user", content: "a".repeat(50) },
        { role: "user", content: [{ type: "text", text: "b".repeat(50) }] },
        { role: "user", content: "c" },
      ],
    });
    const result = checkCaps(request, { maxMessages: 2, maxMessageChars: 40, maxTotalChars: 90 });
    assert.equal(result.verdict, "block");
    assert.deepEqual(rules(result), [
      "input.messages",
      "input.message_chars",
      "input.message_chars",
      "input.total_chars",
    ]);
    assert.deepEqual(
      result.findings.map((finding) => finding.messageIndex),
      [undefined, 0, 1, undefined],
    );
    assert.equal(result.request, undefined);
  });

  it("blocks on estimated tokens, counting CJK per character", () => {
    assert.equal(estimateTokens("abcdabcd"), 2);
    assert.equal(estimateTokens("你好世界"), 4);
    assert.equal(estimateTokens("😀"), 1);
    const request = base({ messages: [{ role: "user", content: "你".repeat(30) }] });
    assert.equal(checkCaps(request, { maxMessageTokens: 29 }).verdict, "block");
    assert.equal(checkCaps(request, { maxMessageTokens: 30 }).verdict, "allow");
    assert.deepEqual(rules(checkCaps(request, { maxTotalTokens: 10 })), ["input.total_tokens"]);
  });

  it("counts tool-call arguments as input", () => {
    const request = base({
      messages: [
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "1", type: "function", function: { name: "f", arguments: "x".repeat(100) } }],
        },
      ],
    });
    assert.equal(checkCaps(request, { maxTotalChars: 50 }).verdict, "block");
  });
});

describe("checkCaps: output tokens", () => {
  it("clamps max_tokens and max_completion_tokens without mutating the input", () => {
    const request = base({ max_tokens: 5000, max_completion_tokens: 9000 });
    const result = checkCaps(request, { maxOutputTokens: 1000 });
    assert.equal(result.verdict, "modify");
    assert.equal(result.request?.max_tokens, 1000);
    assert.equal(result.request?.max_completion_tokens, 1000);
    assert.equal(request.max_tokens, 5000, "input not mutated");
    assert.deepEqual(rules(result), ["max_tokens", "max_completion_tokens"]);
  });

  it("blocks instead when onExceed is block", () => {
    const result = checkCaps(base({ max_tokens: 5000 }), { maxOutputTokens: 1000, onExceed: "block" });
    assert.equal(result.verdict, "block");
    assert.match(result.findings[0]?.message ?? "", /max_tokens 5000 exceeds the limit of 1000/);
  });

  it("fills a missing output limit unless told not to", () => {
    const filled = checkCaps(base(), { maxOutputTokens: 256 });
    assert.equal(filled.verdict, "modify");
    assert.equal(filled.request?.max_completion_tokens, 256);
    assert.equal(filled.request?.max_tokens, undefined);
    assert.equal(checkCaps(base(), { maxOutputTokens: 256, fillMissingOutputLimit: false }).verdict, "allow");
  });
});

describe("checkCaps: n, logprobs, logit_bias", () => {
  it("blocks n over the limit", () => {
    assert.deepEqual(rules(checkCaps(base({ n: 5 }), { maxN: 2 })), ["n"]);
    assert.equal(checkCaps(base({ n: 2 }), { maxN: 2 }).verdict, "allow");
  });

  it("logprobs: block, strip, clamp top_logprobs", () => {
    const request = base({ logprobs: true, top_logprobs: 15 });
    assert.equal(checkCaps(request, { logprobs: "block" }).verdict, "block");
    const stripped = checkCaps(request, { logprobs: "strip" });
    assert.equal(stripped.verdict, "modify");
    assert.ok(
      stripped.request !== undefined && !("logprobs" in stripped.request) && !("top_logprobs" in stripped.request),
    );
    const clamped = checkCaps(request, { maxTopLogprobs: 5 });
    assert.equal(clamped.request?.top_logprobs, 5);
    assert.equal(clamped.request?.logprobs, true);
    assert.equal(checkCaps(request, { maxTopLogprobs: 5, onExceed: "block" }).verdict, "block");
    assert.equal(checkCaps(base(), { logprobs: "block" }).verdict, "allow", "no logprobs asked: nothing to block");
  });

  it("logit_bias: block, strip, entry limit, magnitude clamp", () => {
    const request = base({ logit_bias: { "50256": -100, "1234": 5, "99": 30 } });
    assert.equal(checkCaps(request, { logitBias: "block" }).verdict, "block");
    const stripped = checkCaps(request, { logitBias: "strip" });
    assert.ok(stripped.request !== undefined && !("logit_bias" in stripped.request));
    assert.deepEqual(rules(checkCaps(request, { maxLogitBiasEntries: 2 })), ["logit_bias.entries"]);
    const clamped = checkCaps(request, { maxLogitBiasMagnitude: 10 });
    assert.equal(clamped.verdict, "modify");
    assert.deepEqual(clamped.request?.logit_bias, { "50256": -10, "1234": 5, "99": 10 });
    assert.equal(checkCaps(request, { maxLogitBiasMagnitude: 10, onExceed: "block" }).verdict, "block");
    assert.equal(checkCaps(base({ logit_bias: {} }), { logitBias: "block" }).verdict, "allow");
  });

  it("a block wins over modifications", () => {
    const result = checkCaps(base({ max_tokens: 9999, n: 9 }), { maxOutputTokens: 10, maxN: 1 });
    assert.equal(result.verdict, "block");
    assert.equal(result.request, undefined);
  });
});

describe("capsPolicySchema", () => {
  it("rejects bad limits and unknown keys", () => {
    assert.equal(capsPolicySchema.safeParse({ maxOutputTokens: 0 }).success, false);
    assert.equal(capsPolicySchema.safeParse({ maxOutputTokens: 1.5 }).success, false);
    assert.equal(capsPolicySchema.safeParse({ maxTopLogprobs: 21 }).success, false);
    assert.equal(capsPolicySchema.safeParse({ maxLogitBiasMagnitude: 101 }).success, false);
    assert.equal(capsPolicySchema.safeParse({ logprobs: "maybe" }).success, false);
    assert.equal(capsPolicySchema.safeParse({ maxTokens: 10 }).success, false);
    assert.equal(capsPolicySchema.safeParse({ maxOutputTokens: 10, onExceed: "block" }).success, true);
  });
});
