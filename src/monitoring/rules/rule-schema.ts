import { z } from "zod";
import { ModelportError } from "../../core/errors.js";

export const RULE_KINDS = ["error-rate", "p99-latency", "drift", "budget", "accuracy"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30s", "5m", "1h", "7d" → milliseconds. */
export function parseWindow(window: string): number {
  const match = /^([1-9][0-9]{0,5})(s|m|h|d)$/.exec(window);
  if (!match) throw new ModelportError("MP_CONFIG_INVALID", `window ${JSON.stringify(window)} is not like 5m`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/**
 * One alert rule. What `threshold` means depends on the kind, and so does the comparison:
 * - error-rate: share of responses with status ≥ 500 in the window; fires when > threshold (0-1).
 * - p99-latency: nearest-rank p99 latency in milliseconds; fires when > threshold.
 * - drift: the latest drift report's share of drifted columns; fires when ≥ threshold (0-1).
 * - budget: spent / monthly budget per tenant; fires when ≥ threshold (0.8 = 80 %).
 * - accuracy: live accuracy from feedback labels; fires when < threshold (0-1). Needs `endpoint`.
 * `minRequests` is the least traffic (or labels, for accuracy) that may decide anything.
 */
export const alertRuleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "name: letters, digits, _ . - (at most 64)"),
    kind: z.enum(RULE_KINDS),
    endpoint: z.string().min(1).optional(),
    tenantId: z.string().min(1).optional(),
    window: z
      .string()
      .regex(/^[1-9][0-9]{0,5}(s|m|h|d)$/, "window like 30s, 5m, 1h or 7d")
      .default("5m"),
    threshold: z.number().finite().nonnegative(),
    severity: z.enum(["info", "warning", "critical"]).default("warning"),
    minRequests: z.number().int().min(1).default(10),
    /**
     * Accuracy rules only: when the rule fires a new alert, queue this training job (the dataset by
     * name trains on its newest version, so labels added since the last model are used). The new
     * version is registered by the run, not promoted: promotion stays a decision (and its gate).
     */
    retrain: z
      .strictObject({
        tenant: z.string().min(1).describe("Tenant (name or id) that owns the dataset"),
        dataset: z.string().min(1).describe("Dataset name, or name@version"),
        template: z.string().min(1),
        hyperparameters: z.record(z.string(), z.unknown()).optional(),
        seed: z.number().int().min(0).optional(),
      })
      .optional(),
  })
  .strict()
  .superRefine((rule, context) => {
    const fraction = rule.kind === "error-rate" || rule.kind === "drift" || rule.kind === "accuracy";
    if (fraction && rule.threshold > 1)
      context.addIssue({ code: "custom", path: ["threshold"], message: `${rule.kind} threshold is a share, 0 to 1` });
    if ((rule.kind === "p99-latency" || rule.kind === "budget") && rule.threshold <= 0)
      context.addIssue({ code: "custom", path: ["threshold"], message: `${rule.kind} threshold must be > 0` });
    if (rule.retrain !== undefined && rule.kind !== "accuracy")
      context.addIssue({ code: "custom", path: ["retrain"], message: "only accuracy rules can retrain" });
    if (rule.kind === "accuracy" && rule.endpoint === undefined)
      context.addIssue({ code: "custom", path: ["endpoint"], message: "accuracy rules name their endpoint" });
  });

export type AlertRule = z.output<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;

/** Validates a list of rules (e.g. the config's `alerts.rules`); names must be unique. */
export function parseAlertRules(input: unknown): AlertRule[] {
  const result = z.array(alertRuleSchema).safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.map(String).join(".") ?? "";
    throw new ModelportError("MP_CONFIG_INVALID", `alert rules: ${where ? `${where}: ` : ""}${issue?.message}`);
  }
  const seen = new Set<string>();
  for (const rule of result.data) {
    if (seen.has(rule.name)) throw new ModelportError("MP_CONFIG_INVALID", `alert rules: duplicate name ${rule.name}`);
    seen.add(rule.name);
  }
  return result.data;
}
