import type { ArtifactFormat, ModelLineage, ModelSignature, ModelTask, ReferenceProfileSummary } from "./types.js";

/**
 * A model card (Mitchell et al., 2019, trimmed to what the registry knows): generated once at
 * registration from the signature, lineage and test metrics, and stored with the version.
 */
export interface ModelCardInput {
  name: string;
  version: number;
  createdAt: string;
  sha256: string;
  format: ArtifactFormat;
  task: ModelTask | null;
  signature: ModelSignature | null;
  metrics: Record<string, number>;
  lineage: ModelLineage;
  description?: string | undefined;
  referenceProfile?: ReferenceProfileSummary | null | undefined;
}

const cell = (value: unknown) => String(value).replaceAll("|", "\\|").replaceAll("\n", " ");
const format = (value: number) => (Number.isInteger(value) ? String(value) : Number(value.toPrecision(6)).toString());

function tensorLine(tensor: ModelSignature["inputs"][number]): string {
  return `- \`${tensor.name}\`: ${tensor.datatype} [${tensor.shape.join(", ")}]`;
}

function intendedUse(input: ModelCardInput): string {
  if (input.description) return input.description;
  const { task, signature } = input;
  if (task === "classification") {
    const labels = signature?.labels;
    return labels && labels.length > 0
      ? `Classifies inputs into one of ${labels.length} classes: ${labels.map((label) => `\`${label}\``).join(", ")}.`
      : "Classifies inputs into a fixed set of classes.";
  }
  if (task === "regression") return "Predicts a numeric value from its inputs.";
  return "Not stated at registration.";
}

export function generateModelCard(input: ModelCardInput): string {
  const { lineage, signature, metrics } = input;
  const lines: string[] = [`# ${input.name} v${input.version}`, ""];
  lines.push(
    `Registered ${input.createdAt}. Format: ${input.format}. Task: ${input.task ?? "unknown"}. sha256: \`${input.sha256}\`.`,
    "",
  );
  lines.push("## Intended use", "", intendedUse(input), "");
  if (signature) {
    lines.push("Inputs (OIP v2, raw; the saved preprocessing is applied by the server):", "");
    lines.push(...signature.inputs.map(tensorLine), "", "Outputs:", "", ...signature.outputs.map(tensorLine), "");
  }
  lines.push("## Data", "");
  lines.push(
    lineage.dataset
      ? `Dataset \`${lineage.dataset.name}\` version \`${lineage.dataset.version}\`${lineage.splitSeed === undefined ? "" : `, split seed ${lineage.splitSeed}`}.`
      : "No dataset version was recorded.",
  );
  if (lineage.runId) lines.push(`Training run: \`${lineage.runId}\`.`);
  const parameters = Object.entries(lineage.parameters ?? {});
  if (parameters.length > 0) {
    lines.push("", "| parameter | value |", "| --- | --- |");
    for (const [key, value] of parameters) lines.push(`| ${cell(key)} | ${cell(JSON.stringify(value))} |`);
  }
  const profile = input.referenceProfile;
  lines.push(
    "",
    profile
      ? `Drift reference profile: ${profile.rows} rows (${profile.source === "artifact" ? "the training split" : `a ${profile.source} reference given at registration`}), columns ${profile.columns.map((column) => `\`${column}\``).join(", ")}.`
      : "No drift reference profile: live drift is not watched for this version.",
  );
  lines.push("", "## Metrics (test split)", "");
  const entries = Object.entries(metrics);
  if (entries.length === 0) lines.push("No metrics were recorded.");
  else {
    lines.push("| metric | value |", "| --- | --- |");
    for (const [key, value] of entries) lines.push(`| ${cell(key)} | ${format(value)} |`);
  }
  lines.push("", "## Limitations", "");
  lines.push(
    "- Metrics hold for data like the test split only; inputs from another distribution (other sources, languages, time periods) can score much worse. Monitor drift in production.",
    "- The model was evaluated on a single held-out split; small test sets make the numbers noisy.",
    "- Not evaluated for fairness across groups; check per-slice metrics before decisions that affect people.",
  );
  if (!lineage.dataset)
    lines.push("- Without a recorded dataset version this model cannot be compared with others by the promotion gate.");
  return `${lines.join("\n")}\n`;
}
