import { z } from "zod";
import type { ChatCompletionRequest } from "../../core/openai-types.js";
import { estimateTokens, messageText } from "./message-text.js";
import { combineVerdicts, type GuardFinding } from "./types.js";

const count = z.int().min(0);
const positive = z.int().min(1);
const fieldAction = z.enum(["allow", "strip", "block"]);

/**
 * Per-policy limits against unbounded consumption (OWASP LLM10). Every limit is optional: absent
 * means unlimited. Input limits always block (a prompt cannot be trimmed safely); output and
 * sampling limits clamp or block per `onExceed`.
 */
export const capsPolicySchema = z.strictObject({
  maxMessages: positive.optional(),
  /** Characters (UTF-16 units) of one message's text. */
  maxMessageChars: positive.optional(),
  /** Characters over all messages. */
  maxTotalChars: positive.optional(),
  /** Estimated tokens of one message (see estimateTokens). */
  maxMessageTokens: positive.optional(),
  /** Estimated tokens over all messages. */
  maxTotalTokens: positive.optional(),
  /** Ceiling for max_tokens / max_completion_tokens. */
  maxOutputTokens: positive.optional(),
  /** When the request sets no output limit, add max_completion_tokens = maxOutputTokens (default true). */
  fillMissingOutputLimit: z.boolean().optional(),
  /** Most choices per request (`n`); more is blocked (fewer choices than asked would break clients). */
  maxN: positive.optional(),
  /** logprobs / top_logprobs: allow (subject to maxTopLogprobs), strip from the request, or block. */
  logprobs: fieldAction.optional(),
  maxTopLogprobs: count.max(20).optional(),
  /** logit_bias: allow (subject to the two limits below), strip, or block. */
  logitBias: fieldAction.optional(),
  /** Most logit_bias entries; more is blocked (which ones to drop is not ours to choose). */
  maxLogitBiasEntries: count.optional(),
  /** Largest |bias| allowed (OpenAI's range is ±100). */
  maxLogitBiasMagnitude: z.number().min(0).max(100).optional(),
  /** What to do with a value over a clampable ceiling (output tokens, top_logprobs, bias magnitude). */
  onExceed: z.enum(["clamp", "block"]).optional(),
});
export type CapsPolicy = z.infer<typeof capsPolicySchema>;

export interface CapsResult {
  verdict: "allow" | "modify" | "block";
  findings: GuardFinding[];
  /** Present when verdict is "modify": a copy of the request with the changes (the input is not mutated). */
  request?: ChatCompletionRequest;
}

/**
 * Checks a chat request against a caps policy. Never throws and never mutates `request`.
 */
export function checkCaps(request: ChatCompletionRequest, policy: CapsPolicy): CapsResult {
  const findings: GuardFinding[] = [];
  const changes: Record<string, unknown> = {};
  const removed = new Set<string>();
  const onExceed = policy.onExceed ?? "clamp";
  const block = (rule: string, message: string, messageIndex?: number): void => {
    findings.push({
      guard: "caps",
      rule,
      action: "block",
      message,
      ...(messageIndex === undefined ? {} : { messageIndex }),
    });
  };
  const modify = (rule: string, message: string): void => {
    findings.push({ guard: "caps", rule, action: "modify", message });
  };

  // Input size.
  const messages = Array.isArray(request.messages) ? request.messages : [];
  if (policy.maxMessages !== undefined && messages.length > policy.maxMessages) {
    block("input.messages", `${messages.length} messages exceed the limit of ${policy.maxMessages}`);
  }
  let totalChars = 0;
  let totalTokens = 0;
  const needTokens = policy.maxMessageTokens !== undefined || policy.maxTotalTokens !== undefined;
  messages.forEach((message, index) => {
    const text = messageText(message);
    totalChars += text.length;
    if (policy.maxMessageChars !== undefined && text.length > policy.maxMessageChars) {
      block(
        "input.message_chars",
        `message ${index} has ${text.length} characters, limit ${policy.maxMessageChars}`,
        index,
      );
    }
    if (needTokens) {
      const tokens = estimateTokens(text);
      totalTokens += tokens;
      if (policy.maxMessageTokens !== undefined && tokens > policy.maxMessageTokens) {
        block(
          "input.message_tokens",
          `message ${index} has about ${tokens} tokens, limit ${policy.maxMessageTokens}`,
          index,
        );
      }
    }
  });
  if (policy.maxTotalChars !== undefined && totalChars > policy.maxTotalChars) {
    block("input.total_chars", `the messages have ${totalChars} characters, limit ${policy.maxTotalChars}`);
  }
  if (policy.maxTotalTokens !== undefined && totalTokens > policy.maxTotalTokens) {
    block("input.total_tokens", `the messages have about ${totalTokens} tokens, limit ${policy.maxTotalTokens}`);
  }

  // Output tokens.
  const ceiling = policy.maxOutputTokens;
  if (ceiling !== undefined) {
    let anySet = false;
    for (const field of ["max_tokens", "max_completion_tokens"] as const) {
      const value = request[field];
      if (typeof value !== "number") continue;
      anySet = true;
      if (value <= ceiling) continue;
      if (onExceed === "block") block(field, `${field} ${value} exceeds the limit of ${ceiling}`);
      else {
        changes[field] = ceiling;
        modify(field, `${field} ${value} clamped to ${ceiling}`);
      }
    }
    if (!anySet && policy.fillMissingOutputLimit !== false) {
      changes.max_completion_tokens = ceiling;
      modify("max_completion_tokens", `no output limit set; max_completion_tokens set to ${ceiling}`);
    }
  }

  // Choices.
  const n = request.n;
  if (policy.maxN !== undefined && typeof n === "number" && n > policy.maxN) {
    block("n", `n ${n} exceeds the limit of ${policy.maxN}`);
  }

  // Log probabilities. `logprobs` is a boolean on chat and a count on legacy completions.
  const logprobsValue = request.logprobs;
  const topValue = typeof request.top_logprobs === "number" ? request.top_logprobs : undefined;
  const wantsLogprobs = logprobsValue === true || typeof logprobsValue === "number" || topValue !== undefined;
  const logprobsAction = policy.logprobs ?? "allow";
  if (wantsLogprobs && logprobsAction === "block") block("logprobs", "logprobs are not allowed by policy");
  else if (wantsLogprobs && logprobsAction === "strip") {
    for (const field of ["logprobs", "top_logprobs"]) if (field in request) removed.add(field);
    modify("logprobs", "logprobs removed by policy");
  } else if (policy.maxTopLogprobs !== undefined) {
    const limit = policy.maxTopLogprobs;
    const fields: [string, number | undefined][] = [
      ["top_logprobs", topValue],
      ["logprobs", typeof logprobsValue === "number" ? logprobsValue : undefined],
    ];
    for (const [field, value] of fields) {
      if (value === undefined || value <= limit) continue;
      if (onExceed === "block") block(field, `${field} ${value} exceeds the limit of ${limit}`);
      else {
        changes[field] = limit;
        modify(field, `${field} ${value} clamped to ${limit}`);
      }
    }
  }

  // Logit bias.
  const bias = request.logit_bias;
  const biasEntries =
    bias !== null && typeof bias === "object" && !Array.isArray(bias)
      ? Object.entries(bias as Record<string, unknown>)
      : [];
  const biasAction = policy.logitBias ?? "allow";
  if (biasEntries.length > 0 && biasAction === "block") block("logit_bias", "logit_bias is not allowed by policy");
  else if (biasEntries.length > 0 && biasAction === "strip") {
    removed.add("logit_bias");
    modify("logit_bias", "logit_bias removed by policy");
  } else if (biasEntries.length > 0) {
    if (policy.maxLogitBiasEntries !== undefined && biasEntries.length > policy.maxLogitBiasEntries) {
      block("logit_bias.entries", `logit_bias has ${biasEntries.length} entries, limit ${policy.maxLogitBiasEntries}`);
    }
    const magnitude = policy.maxLogitBiasMagnitude;
    if (magnitude !== undefined) {
      const over = biasEntries.filter(([, value]) => typeof value === "number" && Math.abs(value) > magnitude);
      if (over.length > 0 && onExceed === "block") {
        block("logit_bias.magnitude", `${over.length} logit_bias values exceed ±${magnitude}`);
      } else if (over.length > 0) {
        changes.logit_bias = Object.fromEntries(
          biasEntries.map(([token, value]) => [
            token,
            typeof value === "number" ? Math.max(-magnitude, Math.min(magnitude, value)) : value,
          ]),
        );
        modify("logit_bias.magnitude", `${over.length} logit_bias values clamped to ±${magnitude}`);
      }
    }
  }

  const verdict = combineVerdicts(findings);
  if (verdict !== "modify") return { verdict: verdict === "flag" ? "allow" : verdict, findings };
  const modified: ChatCompletionRequest = { ...request, ...changes };
  for (const field of removed) delete modified[field];
  return { verdict, findings, request: modified };
}
