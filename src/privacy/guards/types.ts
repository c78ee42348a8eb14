import type { InjectionSignal } from "./injection.js";

/** The guards that produce findings. */
export type GuardName = "injection" | "caps" | "systemPromptEcho";

/**
 * What one guard found. `action` is what the policy wants done about it; the pipeline acts on the
 * combined verdict, guards never throw for a block.
 */
export interface GuardFinding {
  guard: GuardName;
  /** Machine-readable rule id, e.g. "max_tokens", "input.total_chars", "injection", "echo.longest_match". */
  rule: string;
  action: "flag" | "modify" | "block";
  /** One line for logs and error messages; never contains the offending text. */
  message: string;
  /** Index into `request.messages` when the finding is about one message. */
  messageIndex?: number;
  /** Injection findings: the score and the signals that fired. */
  score?: number;
  signals?: InjectionSignal[];
}

export type GuardVerdict = "allow" | "flag" | "modify" | "block";

/** The most severe verdict wins: block > modify > flag > allow. */
export function combineVerdicts(findings: readonly GuardFinding[]): GuardVerdict {
  let verdict: GuardVerdict = "allow";
  for (const finding of findings) {
    if (finding.action === "block") return "block";
    if (finding.action === "modify") verdict = "modify";
    else if (finding.action === "flag" && verdict === "allow") verdict = "flag";
  }
  return verdict;
}
