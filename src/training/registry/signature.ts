import { z } from "zod";
import { ModelportError } from "../../core/errors.js";
import { oipDatatypes } from "../../core/oip-types.js";
import type { ModelLineage, ModelSignature, ModelTask } from "./types.js";

const tensorSchema = z.object({
  name: z.string().min(1),
  datatype: z.enum(oipDatatypes as unknown as [string, ...string[]]),
  shape: z.array(z.number().int().min(-1)),
});

const signatureSchema = z.object({
  inputs: z.array(tensorSchema).min(1),
  outputs: z.array(tensorSchema).min(1),
  task: z.enum(["classification", "regression"]).optional(),
  labels: z.array(z.union([z.string(), z.number()])).optional(),
});

const lineageSchema = z.object({
  runId: z.string().min(1).optional(),
  dataset: z.object({ name: z.string().min(1), version: z.string().min(1) }).optional(),
  splitSeed: z.number().int().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue === undefined ? "" : ` at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
}

/** Validates signature.json, so a broken one fails at registration, not on the first request. */
export function parseSignature(value: unknown, source: string): ModelSignature {
  const parsed = signatureSchema.safeParse(value);
  if (!parsed.success)
    throw new ModelportError("MP_INVALID_REQUEST", `${source} is not a valid signature${describe(parsed.error)}`, {
      param: "signature",
    });
  return parsed.data as ModelSignature;
}

export function parseLineage(value: unknown, source: string): ModelLineage {
  const parsed = lineageSchema.safeParse(value ?? {});
  if (!parsed.success)
    throw new ModelportError("MP_INVALID_REQUEST", `${source} is not valid lineage${describe(parsed.error)}`, {
      param: "lineage",
    });
  return parsed.data as ModelLineage;
}

/** metrics.json: keeps the flat finite numbers (`report` and other nested values stay out). */
export function flatMetrics(value: unknown): Record<string, number> {
  const metrics: Record<string, number> = {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return metrics;
  // The trainer nests the test-split evaluation under `metrics`; that is the version's metrics.
  const summary = (value as { metrics?: unknown }).metrics;
  if (typeof summary === "object" && summary !== null && !Array.isArray(summary)) return flatMetrics(summary);
  for (const [key, metric] of Object.entries(value)) {
    if (typeof metric === "number" && Number.isFinite(metric)) metrics[key] = metric;
  }
  return metrics;
}

export function inferTask(signature: ModelSignature | null, metrics: Record<string, number>): ModelTask | null {
  if (signature?.task) return signature.task;
  if ("rmse" in metrics || "mse" in metrics || "r2" in metrics) return "regression";
  if ("accuracy" in metrics || "f1" in metrics) return "classification";
  return null;
}
