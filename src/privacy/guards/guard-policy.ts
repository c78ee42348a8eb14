import { z } from "zod";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionRequest } from "../../core/openai-types.js";
import { capsPolicySchema, checkCaps } from "./caps.js";
import { createEchoMonitor, type EchoMonitor, type EchoOptions, type EchoVerdict } from "./echo.js";
import { detectInjection, injectionSignalNames } from "./injection.js";
import { messageText, systemPromptsOf } from "./message-text.js";
import { combineVerdicts, type GuardFinding, type GuardVerdict } from "./types.js";

const guardAction = z.enum(["off", "flag", "block"]);
const roles = ["system", "developer", "user", "assistant", "tool", "function"] as const;

/**
 * Guard policy (per tenant and endpoint), for the config schema. Every part is optional; an absent
 * part is off. Defaults: injection flags at 0.7 on user/tool/function messages (system and
 * developer messages are the operator's own); echo needs 80 common characters.
 */
export const guardPolicySchema = z.strictObject({
  injection: z
    .strictObject({
      action: guardAction,
      threshold: z.number().min(0).max(1).optional(),
      /** Roles whose messages are scanned (default user, tool, function). */
      roles: z.array(z.enum(roles)).min(1).optional(),
      /** Scan at most this many characters per message (default 262144). */
      maxChars: z.int().min(1).optional(),
      /** Per-signal weight overrides; 0 switches a signal off. */
      weights: z.partialRecord(z.enum(injectionSignalNames), z.number().min(0).max(1)).optional(),
    })
    .optional(),
  caps: capsPolicySchema.optional(),
  systemPromptEcho: z
    .strictObject({
      action: guardAction,
      minChars: z.int().min(16).max(100_000).optional(),
      shingleSize: z.int().min(2).max(32).optional(),
      minShingleCoverage: z.number().gt(0).max(1).optional(),
    })
    .optional(),
});
export type GuardPolicy = z.infer<typeof guardPolicySchema>;

/** Validates a raw policy (from config or the admin API). Throws MP_CONFIG_INVALID naming the path. */
export function parseGuardPolicy(raw: unknown, where = "guards"): GuardPolicy {
  const parsed = guardPolicySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = [where, ...(issue?.path ?? []).map(String)].join(".");
  throw new ModelportError("MP_CONFIG_INVALID", `${path}: ${issue?.message ?? "invalid guard policy"}`, {
    param: path,
  });
}

export interface RequestGuardResult {
  /** block > modify > flag > allow. */
  verdict: GuardVerdict;
  findings: GuardFinding[];
  /** The request to send on: the caps-modified copy, or the original. */
  request: ChatCompletionRequest;
  /** Some finding asks to flag (log/metric/audit) even if the verdict is modify. */
  flagged: boolean;
}

/**
 * Runs the request-side guards: caps first (cheap, and they bound what injection scanning costs),
 * then prompt injection on each scanned message. Never throws for a block.
 */
export function evaluateRequestGuards(request: ChatCompletionRequest, policy: GuardPolicy): RequestGuardResult {
  const findings: GuardFinding[] = [];
  let next = request;
  if (policy.caps !== undefined) {
    const caps = checkCaps(request, policy.caps);
    findings.push(...caps.findings);
    if (caps.verdict === "block") return { verdict: "block", findings, request, flagged: false };
    if (caps.request !== undefined) next = caps.request;
  }
  const injection = policy.injection;
  if (injection !== undefined && injection.action !== "off") {
    const threshold = injection.threshold ?? 0.7;
    const scanned = new Set<string>(injection.roles ?? ["user", "tool", "function"]);
    const messages = Array.isArray(next.messages) ? next.messages : [];
    messages.forEach((message, index) => {
      if (!scanned.has(message.role)) return;
      const result = detectInjection(messageText(message), {
        ...(injection.maxChars === undefined ? {} : { maxChars: injection.maxChars }),
        ...(injection.weights === undefined ? {} : { weights: injection.weights }),
      });
      if (result.score < threshold) return;
      findings.push({
        guard: "injection",
        rule: "injection",
        action: injection.action === "block" ? "block" : "flag",
        message: `message ${index} (${message.role}) scored ${result.score.toFixed(2)} for prompt injection: ${result.signals.map((signal) => signal.name).join(", ")}`,
        messageIndex: index,
        score: result.score,
        signals: result.signals,
      });
    });
  }
  const verdict = combineVerdicts(findings);
  return {
    verdict,
    findings,
    request: verdict === "block" ? request : next,
    flagged: findings.some((finding) => finding.action === "flag"),
  };
}

export interface ResponseGuardResult {
  verdict: "allow" | "flag" | "block";
  findings: GuardFinding[];
}

function echoOptions(policy: NonNullable<GuardPolicy["systemPromptEcho"]>): EchoOptions {
  return {
    ...(policy.minChars === undefined ? {} : { minChars: policy.minChars }),
    ...(policy.shingleSize === undefined ? {} : { shingleSize: policy.shingleSize }),
    ...(policy.minShingleCoverage === undefined ? {} : { minShingleCoverage: policy.minShingleCoverage }),
  };
}

function echoFinding(verdict: EchoVerdict, action: "flag" | "block", choiceIndex: number): GuardFinding {
  const evidence =
    verdict.reason === "shingles"
      ? `${Math.round(verdict.shingleCoverage * 100)}% of its word shingles`
      : `${verdict.longestMatch} characters verbatim`;
  return {
    guard: "systemPromptEcho",
    rule: `echo.${verdict.reason ?? "substring"}`,
    action,
    message: `choice ${choiceIndex} reproduces system prompt ${verdict.promptIndex ?? 0} (${evidence})`,
  };
}

function toResult(findings: GuardFinding[]): ResponseGuardResult {
  const verdict = combineVerdicts(findings);
  return { verdict: verdict === "modify" ? "flag" : verdict, findings };
}

/** Response-side check of a complete (non-streamed) chat completion. */
export function checkResponseGuards(
  request: ChatCompletionRequest,
  completion: ChatCompletion,
  policy: GuardPolicy,
): ResponseGuardResult {
  const echo = policy.systemPromptEcho;
  if (echo === undefined || echo.action === "off") return { verdict: "allow", findings: [] };
  const prompts = systemPromptsOf(Array.isArray(request.messages) ? request.messages : []);
  if (prompts.length === 0) return { verdict: "allow", findings: [] };
  const findings: GuardFinding[] = [];
  for (const choice of completion.choices ?? []) {
    const content = choice.message?.content;
    if (typeof content !== "string" || content.length === 0) continue;
    const monitor = createEchoMonitor(prompts, echoOptions(echo));
    monitor.push(content);
    const verdict = monitor.finish();
    if (verdict.echoed) findings.push(echoFinding(verdict, echo.action, choice.index));
  }
  return toResult(findings);
}

export interface StreamResponseGuard {
  /**
   * Feeds one content delta of choice `choiceIndex`. A "block" verdict means: stop forwarding this
   * stream now (the text already sent held less than about minChars + one chunk of the echo).
   */
  push(choiceIndex: number, delta: string): ResponseGuardResult;
  /** End of stream: flushes the last partial word of every choice. */
  finish(): ResponseGuardResult;
}

/**
 * A response guard for a streamed completion, or undefined when there is nothing to check (echo off,
 * or the request has no system prompt): the pipeline can then skip the per-chunk call entirely.
 */
export function createStreamResponseGuard(
  request: ChatCompletionRequest,
  policy: GuardPolicy,
): StreamResponseGuard | undefined {
  const echo = policy.systemPromptEcho;
  if (echo === undefined || echo.action === "off") return undefined;
  const prompts = systemPromptsOf(Array.isArray(request.messages) ? request.messages : []);
  if (prompts.length === 0) return undefined;
  const action = echo.action;
  const monitors = new Map<number, EchoMonitor>();
  const reported = new Set<number>();
  const findings: GuardFinding[] = [];
  const observe = (choiceIndex: number, verdict: EchoVerdict): void => {
    if (!verdict.echoed || reported.has(choiceIndex)) return;
    reported.add(choiceIndex);
    findings.push(echoFinding(verdict, action, choiceIndex));
  };
  return {
    push(choiceIndex, delta) {
      let monitor = monitors.get(choiceIndex);
      if (monitor === undefined) {
        monitor = createEchoMonitor(prompts, echoOptions(echo));
        monitors.set(choiceIndex, monitor);
      }
      observe(choiceIndex, monitor.push(delta));
      return toResult([...findings]);
    },
    finish() {
      for (const [choiceIndex, monitor] of monitors) observe(choiceIndex, monitor.finish());
      return toResult([...findings]);
    },
  };
}

/**
 * The client-facing error for a blocked request (400 MP_GUARD_BLOCKED). Names the rules and signals
 * that fired, never the offending text. Returned, not thrown: the pipeline decides.
 */
export function guardBlockedError(findings: readonly GuardFinding[]): ModelportError {
  const blocking = findings.filter((finding) => finding.action === "block");
  const names = blocking.map((finding) =>
    finding.guard === "injection"
      ? `injection(${(finding.signals ?? []).map((signal) => signal.name).join(",")})`
      : `${finding.guard}:${finding.rule}`,
  );
  const first = blocking[0];
  return new ModelportError("MP_GUARD_BLOCKED", `Request blocked by guard policy: ${[...new Set(names)].join("; ")}`, {
    ...(first?.messageIndex === undefined ? {} : { param: `messages.${first.messageIndex}` }),
  });
}

/**
 * The error a streamed answer ends with when a response guard blocks it mid-stream (the stream's
 * error event; the status line already said 200). Names the rules, never the echoed text.
 */
export function answerBlockedError(findings: readonly GuardFinding[]): ModelportError {
  const rules = findings
    .filter((finding) => finding.action === "block")
    .map((finding) => `${finding.guard}:${finding.rule}`);
  return new ModelportError(
    "MP_GUARD_BLOCKED",
    `Answer stopped by guard policy: ${[...new Set(rules)].join("; ")} (it reproduces the system prompt)`,
  );
}
