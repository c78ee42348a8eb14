import { z } from "zod";
import { ModelportError } from "../../core/errors.js";
import { defaultPiiEngine, type PiiEngine } from "./engine.js";
import { anonymize } from "./operators.js";
import type { PseudonymSession } from "./pseudonymize.js";
import { type PiiEntityType, type PiiFinding, piiEntityTypes } from "./types.js";

/**
 * What to do with each entity type:
 *   allow         nothing (the value reaches the model and the logs)
 *   mask_logs     the model sees the value; stored logs see it masked
 *   pseudonymize  the model sees <TYPE_N> (re-identified in the answer); logs see it masked
 *   redact        the model sees <TYPE> (irreversible); logs see it masked
 *   block         the request is refused (the caller maps `blocked` to a 400)
 */
export const piiPolicyActions = ["allow", "mask_logs", "pseudonymize", "redact", "block"] as const;
export type PiiPolicyAction = (typeof piiPolicyActions)[number];

const actionSchema = z.enum(piiPolicyActions);
const ruleSchema = z.union([
  actionSchema,
  z.strictObject({ action: actionSchema, threshold: z.number().min(0).max(1).optional() }),
]);

/** The policy's config shape (per tenant and endpoint), for the config schema. */
export const piiPolicySchema = z.strictObject({
  /** Action for types not listed in `entities` (default allow). */
  defaultAction: actionSchema.optional(),
  /** Minimum score for a finding to count (default 0.5). */
  threshold: z.number().min(0).max(1).optional(),
  entities: z.partialRecord(z.enum(piiEntityTypes), ruleSchema).optional(),
});
export type PiiPolicy = z.infer<typeof piiPolicySchema>;

export interface PolicyFinding extends PiiFinding {
  action: PiiPolicyAction;
}

export interface PolicyResult {
  /** The text to send on (to the model, or to the caller for a response). */
  text: string;
  /** The text to store in logs and datasets: every non-allowed finding masked. */
  logText: string;
  findings: PolicyFinding[];
  /** Present when a finding's action is block: the types that caused it. The text is unchanged. */
  blocked?: { types: PiiEntityType[] };
}

export interface ApplyPolicyOptions {
  engine?: PiiEngine;
}

/** The shape every PII policy shares (gateway and dataset policies differ only in their actions). */
export interface PolicyShape<Action extends string> {
  defaultAction?: Action | undefined;
  threshold?: number | undefined;
  entities?: Partial<Record<PiiEntityType, Action | { action: Action; threshold?: number | undefined }>> | undefined;
}

/** The action and minimum score for one type: its own rule, else the policy's defaults. */
export function ruleFor<Action extends string>(
  policy: PolicyShape<Action>,
  type: PiiEntityType,
): { action: Action | "allow"; threshold: number } {
  const rule = policy.entities?.[type];
  const base = policy.threshold ?? 0.5;
  if (rule === undefined) return { action: policy.defaultAction ?? "allow", threshold: base };
  if (typeof rule === "string") return { action: rule, threshold: base };
  return { action: rule.action, threshold: rule.threshold ?? base };
}

/** The lowest score any rule of the policy accepts: what the engine must report down to. */
export function lowestThreshold<Action extends string>(policy: PolicyShape<Action>): number {
  return Math.min(
    policy.threshold ?? 0.5,
    ...Object.values(policy.entities ?? {}).map((rule) => (typeof rule === "object" ? (rule.threshold ?? 1) : 1)),
  );
}

/**
 * Applies a policy to one text. A guard, not a gate: it returns a verdict (`blocked`) and never
 * throws for a block; the pipeline decides what to answer. Pseudonyms go into `session`, which the
 * caller later uses to re-identify the model's answer (reidentify / createStreamReidentifier).
 */
export function applyPolicy(
  text: string,
  policy: PiiPolicy,
  session?: PseudonymSession,
  options: ApplyPolicyOptions = {},
): PolicyResult {
  const engine = options.engine ?? defaultPiiEngine();
  const findings: PolicyFinding[] = [];
  for (const finding of engine.detect(text, { threshold: lowestThreshold(policy) })) {
    const rule = ruleFor(policy, finding.type);
    if (finding.score >= rule.threshold) findings.push({ ...finding, action: rule.action });
  }
  const blockedTypes = [...new Set(findings.filter((f) => f.action === "block").map((f) => f.type))];
  const logText = anonymize(
    text,
    findings.filter((f) => f.action !== "allow"),
    "mask",
  );
  if (blockedTypes.length > 0) return { text, logText, findings, blocked: { types: blockedTypes } };
  if (!session && findings.some((f) => f.action === "pseudonymize")) {
    throw new ModelportError("MP_INTERNAL", "applyPolicy: a policy that pseudonymizes needs a session");
  }
  const out = rewrite(text, findings, session);
  return { text: out, logText, findings };
}

/** One pass writing <TYPE> for redact and session placeholders for pseudonymize. */
function rewrite(text: string, findings: PolicyFinding[], session: PseudonymSession | undefined): string {
  let out = "";
  let cursor = 0;
  for (const finding of findings) {
    if (finding.action !== "redact" && finding.action !== "pseudonymize") continue;
    out += text.slice(cursor, finding.start);
    out +=
      finding.action === "redact"
        ? `<${finding.type}>`
        : (session as PseudonymSession).placeholderFor(finding.type, finding.text);
    cursor = finding.end;
  }
  return out + text.slice(cursor);
}
