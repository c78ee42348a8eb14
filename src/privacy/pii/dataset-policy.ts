import { createHash } from "node:crypto";
import { z } from "zod";
import { ModelportError } from "../../core/errors.js";
import { canonicalJson } from "../audit/canonical-json.js";
import { defaultMaxInputLength, defaultPiiEngine, type PiiEngine } from "./engine.js";
import { createOperator } from "./operators.js";
import { hmacSha256, parsePiiKey } from "./pii-crypto.js";
import { lowestThreshold, piiPolicyActions, ruleFor } from "./policy.js";
import { createPseudonymSession } from "./pseudonymize.js";
import { type PiiEntityType, type PiiFinding, piiEntityTypes } from "./types.js";

/**
 * PII policies for dataset imports: the gateway policy's shape (so a tenant's configured policy
 * applies as is) with the actions that make sense for data at rest added. What each does to a
 * stored cell:
 *   allow               nothing
 *   mask, mask_logs     one mask character per code point (cards keep their last 4 digits)
 *   replace, redact     <TYPE>
 *   pseudonymize        <TYPE_N>, the same value the same placeholder across the whole import
 *                       (rows stay joinable; the mapping is not kept, so it is not reversible)
 *   hash                <TYPE:hex>, HMAC-SHA256 under the tenant's key (stable across imports)
 *   block               the import fails, naming column, row and type, and stores nothing
 * Every action is deterministic for the same data, key and order, so re-importing the same file
 * under the same policy yields the same content-addressed version.
 */
export const datasetPiiActions = [...piiPolicyActions, "mask", "replace", "hash"] as const;
export type DatasetPiiAction = (typeof datasetPiiActions)[number];

const actionSchema = z.enum(datasetPiiActions);
const ruleSchema = z.union([
  actionSchema,
  z.strictObject({ action: actionSchema, threshold: z.number().min(0).max(1).optional() }),
]);

export const datasetPiiPolicySchema = z.strictObject({
  defaultAction: actionSchema.optional(),
  threshold: z.number().min(0).max(1).optional(),
  entities: z.partialRecord(z.enum(piiEntityTypes), ruleSchema).optional(),
});
export type DatasetPiiPolicy = z.infer<typeof datasetPiiPolicySchema>;

/** `--pii-policy NAME`: one action for every type. */
export const datasetPiiPresets: Readonly<Record<string, DatasetPiiPolicy>> = {
  mask: { defaultAction: "mask" },
  replace: { defaultAction: "replace" },
  redact: { defaultAction: "redact" },
  pseudonymize: { defaultAction: "pseudonymize" },
  hash: { defaultAction: "hash" },
  block: { defaultAction: "block" },
  allow: { defaultAction: "allow" },
};

export function parseDatasetPiiPolicy(value: unknown, source: string): DatasetPiiPolicy {
  const parsed = datasetPiiPolicySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  throw new ModelportError(
    "MP_CONFIG_INVALID",
    `invalid PII policy in ${source}: ${where}${issue?.message ?? "invalid"} (actions: ${datasetPiiActions.join(", ")})`,
  );
}

export interface DatasetCellPolicyOptions {
  /** Shown in the quality report: `preset:mask`, `file:policy.yaml`, `config:tenant` … */
  source: string;
  /** The tenant's 32-byte key for `hash` (required when the policy hashes). */
  hashKey?: Buffer | undefined;
  engine?: PiiEngine | undefined;
}

export interface DatasetCellVerdict {
  text: string;
  findings: { type: PiiEntityType; action: DatasetPiiAction }[];
  blockedTypes?: PiiEntityType[];
}

/** The datasets module's PiiCellPolicy port (training/datasets/pii-scanner.ts), implemented. */
export interface DatasetCellPolicy {
  readonly summary: { source: string; defaultAction: string; threshold: number; entities: Record<string, string> };
  readonly fingerprint: string;
  start(): { apply(text: string): DatasetCellVerdict };
}

export function createDatasetCellPolicy(
  policy: DatasetPiiPolicy,
  options: DatasetCellPolicyOptions,
): DatasetCellPolicy {
  const engine = options.engine ?? defaultPiiEngine();
  const actions = new Set<string>([
    policy.defaultAction ?? "allow",
    ...Object.values(policy.entities ?? {}).map((rule) => (typeof rule === "string" ? rule : rule.action)),
  ]);
  let hashKey: Buffer | undefined;
  if (actions.has("hash")) {
    if (options.hashKey === undefined)
      throw new ModelportError("MP_CONFIG_INVALID", "a PII policy that hashes needs the tenant's key");
    hashKey = parsePiiKey(options.hashKey);
  }
  const threshold = lowestThreshold(policy);
  const entities: Record<string, string> = {};
  for (const [type, rule] of Object.entries(policy.entities ?? {}))
    entities[type] = typeof rule === "string" ? rule : rule.action;
  const fingerprint = createHash("sha256")
    .update(
      canonicalJson({
        policy,
        // Which key hashes, never the key: a different key gives different stored tokens.
        ...(hashKey === undefined
          ? {}
          : { key: hmacSha256(hashKey, "modelport dataset policy").toString("hex").slice(0, 16) }),
      }),
    )
    .digest("hex");

  return {
    summary: { source: options.source, defaultAction: policy.defaultAction ?? "allow", threshold, entities },
    fingerprint,
    start() {
      const session = createPseudonymSession();
      const mask = createOperator("mask");
      const hash = hashKey === undefined ? undefined : createOperator("hash", { key: hashKey });
      const transform = (action: DatasetPiiAction, type: PiiEntityType, value: string): string => {
        switch (action) {
          case "mask":
          case "mask_logs":
            return mask(type, value);
          case "replace":
          case "redact":
            return `<${type}>`;
          case "pseudonymize":
            return session.placeholderFor(type, value);
          case "hash":
            return (hash as (type: PiiEntityType, value: string) => string)(type, value);
          default:
            return value; // allow (block never reaches here)
        }
      };
      return {
        apply(text) {
          const findings: (PiiFinding & { action: DatasetPiiAction })[] = [];
          for (const finding of detectAll(engine, text, threshold)) {
            const rule = ruleFor(policy, finding.type);
            if (finding.score >= rule.threshold) findings.push({ ...finding, action: rule.action });
          }
          const summary = findings.map(({ type, action }) => ({ type, action }));
          const blocked = [...new Set(findings.filter((f) => f.action === "block").map((f) => f.type))];
          if (blocked.length > 0) return { text, findings: summary, blockedTypes: blocked };
          let out = "";
          let cursor = 0;
          for (const finding of findings) {
            if (finding.action === "allow") continue;
            out += text.slice(cursor, finding.start) + transform(finding.action, finding.type, finding.text);
            cursor = finding.end;
          }
          return { text: cursor === 0 ? text : out + text.slice(cursor), findings: summary };
        },
      };
    },
  };
}

/**
 * Findings of a text of any length: one longer than the engine's cap is cut at whitespace before
 * the cap (an entity holds no whitespace run at a cut, except names and phone numbers spread over
 * a line break, which are rare in one cell of that size), with offsets shifted back.
 */
function detectAll(engine: PiiEngine, text: string, threshold: number): PiiFinding[] {
  if (text.length <= defaultMaxInputLength) return engine.detect(text, { threshold });
  const findings: PiiFinding[] = [];
  let offset = 0;
  while (offset < text.length) {
    let end = Math.min(text.length, offset + defaultMaxInputLength);
    if (end < text.length) {
      const cut = text.lastIndexOf("\n", end);
      const space = cut > offset ? cut : text.lastIndexOf(" ", end);
      if (space > offset) end = space;
    }
    for (const finding of engine.detect(text.slice(offset, end), { threshold }))
      findings.push({ ...finding, start: finding.start + offset, end: finding.end + offset });
    offset = end;
  }
  return findings;
}
