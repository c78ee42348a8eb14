import { ModelportError } from "../../core/errors.js";
import type { PiiCellFilter, PiiCellPolicy, PiiCellVerdict } from "./pii-scanner.js";
import type { Cell, DataTable, PiiPolicyApplied } from "./types.js";

/**
 * Applies a PII policy to a table before it is canonicalised, hashed and written: the stored
 * version is the policy's output, so its files hold no value the policy removes. A blocked type
 * anywhere stops the import before anything is written; the error names the column, the row
 * (1-based, data rows) and the type, never the value.
 *
 * Cells looked at: strings, and integers of 7 or more digits (a CSV column of bare card or phone
 * numbers reads as numeric). A changed numeric cell is stored as the policy's text.
 */
export interface AppliedPolicy {
  table: DataTable;
  report: PiiPolicyApplied;
  /** Findings per column and type (the quality report's PII counts for the source data). */
  counts: Record<string, Record<string, number>>;
}

/** Distinct cell texts remembered per column (categorical columns repeat values). */
const cacheLimit = 50_000;

function cellText(cell: Cell): string | undefined {
  if (typeof cell === "string") return cell;
  if (typeof cell === "number" && Number.isSafeInteger(cell) && Math.abs(cell) >= 1_000_000) return String(cell);
  return undefined;
}

export function applyCellPolicy(table: DataTable, policy: PiiCellPolicy): AppliedPolicy {
  const filter: PiiCellFilter = policy.start();
  const columns: PiiPolicyApplied["columns"] = {};
  const counts: AppliedPolicy["counts"] = {};
  let cellsChanged = 0;
  const rows = table.rows.map((row) => row.slice());
  for (let j = 0; j < table.columns.length; j++) {
    const name = table.columns[j] as string;
    const cache = new Map<string, PiiCellVerdict>();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Cell[];
      const text = cellText(row[j] ?? null);
      if (text === undefined || text.length === 0) continue;
      let verdict = cache.get(text);
      if (verdict === undefined) {
        verdict = filter.apply(text);
        if (cache.size < cacheLimit) cache.set(text, verdict);
      }
      if (verdict.blockedTypes !== undefined && verdict.blockedTypes.length > 0) {
        throw new ModelportError(
          "MP_PII_BLOCKED",
          `column '${name}', row ${i + 1}: ${[...verdict.blockedTypes].sort().join(", ")} is blocked by the PII policy (${policy.summary.source}); nothing was imported`,
          { param: name },
        );
      }
      if (verdict.findings.length === 0) continue;
      const byType = columns[name] ?? {};
      columns[name] = byType;
      const found = counts[name] ?? {};
      counts[name] = found;
      for (const finding of verdict.findings) {
        const byAction = byType[finding.type] ?? {};
        byType[finding.type] = byAction;
        byAction[finding.action] = (byAction[finding.action] ?? 0) + 1;
        found[finding.type] = (found[finding.type] ?? 0) + 1;
      }
      if (verdict.text !== text) {
        row[j] = verdict.text;
        cellsChanged++;
      }
    }
  }
  return {
    table: { columns: table.columns, rows },
    report: { ...policy.summary, cellsChanged, columns },
    counts,
  };
}

/** One warning line per column and action, for `datasets show`: "email: 3 EMAIL_ADDRESS masked". */
export function policyWarnings(report: PiiPolicyApplied): string[] {
  const past: Record<string, string> = {
    mask: "masked",
    mask_logs: "masked",
    replace: "replaced",
    redact: "replaced",
    pseudonymize: "pseudonymized",
    hash: "hashed",
    allow: "kept (allowed)",
  };
  const lines: string[] = [];
  for (const [column, types] of Object.entries(report.columns)) {
    for (const [type, actions] of Object.entries(types)) {
      for (const [action, count] of Object.entries(actions))
        lines.push(`${column}: ${count} ${type} ${past[action] ?? action}`);
    }
  }
  return lines;
}
