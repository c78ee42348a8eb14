import type { PiiEngine } from "./engine.js";
import type { PiiEntityType } from "./types.js";

/** One labelled sentence of bench/pii/eval-set.jsonl. */
export interface EvalRecord {
  id: string;
  lang: "en" | "zh";
  text: string;
  entities: { type: PiiEntityType; start: number; end: number }[];
  decoys?: { kind: string; start: number; end: number }[];
}

export interface TypeScore {
  type: PiiEntityType;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  /** F-beta with beta = 2: recall weighs four times as much as precision (missing PII costs more). */
  f2: number;
}

export interface EvalReport {
  perType: TypeScore[];
  overall: Omit<TypeScore, "type">;
  /** Decoys (invalid look-alikes) that were reported anyway. */
  decoysReported: number;
  decoys: number;
  errors: { id: string; kind: "missed" | "spurious"; type: PiiEntityType; text: string }[];
}

const fBeta = (precision: number, recall: number, beta = 2) =>
  precision + recall === 0 ? 0 : ((1 + beta * beta) * precision * recall) / (beta * beta * precision + recall);

function score(tp: number, fp: number, fn: number) {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, precision, recall, f2: fBeta(precision, recall) };
}

/**
 * Scores the engine on labelled records with exact matching: a finding counts only when its type,
 * start and end all equal a label's. (Stricter than token-level scoring: a name found without its
 * surname is one miss and one false positive.)
 */
export function evaluatePii(engine: PiiEngine, records: readonly EvalRecord[]): EvalReport {
  const counts = new Map<PiiEntityType, { tp: number; fp: number; fn: number }>();
  const bump = (type: PiiEntityType, key: "tp" | "fp" | "fn") => {
    const entry = counts.get(type) ?? { tp: 0, fp: 0, fn: 0 };
    entry[key]++;
    counts.set(type, entry);
  };
  const errors: EvalReport["errors"] = [];
  let decoysReported = 0;
  let decoys = 0;
  for (const record of records) {
    const found = engine.detect(record.text);
    const key = (type: string, start: number, end: number) => `${type}:${start}:${end}`;
    const labelled = new Set(record.entities.map((entity) => key(entity.type, entity.start, entity.end)));
    const reported = new Set(found.map((finding) => key(finding.type, finding.start, finding.end)));
    for (const entity of record.entities) {
      if (reported.has(key(entity.type, entity.start, entity.end))) bump(entity.type, "tp");
      else {
        bump(entity.type, "fn");
        errors.push({
          id: record.id,
          kind: "missed",
          type: entity.type,
          text: record.text.slice(entity.start, entity.end),
        });
      }
    }
    for (const finding of found) {
      if (labelled.has(key(finding.type, finding.start, finding.end))) continue;
      bump(finding.type, "fp");
      errors.push({ id: record.id, kind: "spurious", type: finding.type, text: finding.text });
    }
    for (const decoy of record.decoys ?? []) {
      decoys++;
      if (found.some((finding) => finding.start < decoy.end && decoy.start < finding.end)) decoysReported++;
    }
  }
  const perType = [...counts.entries()]
    .map(([type, c]) => ({ type, ...score(c.tp, c.fp, c.fn) }))
    .sort((a, b) => a.type.localeCompare(b.type));
  const total = [...counts.values()].reduce((sum, c) => ({ tp: sum.tp + c.tp, fp: sum.fp + c.fp, fn: sum.fn + c.fn }), {
    tp: 0,
    fp: 0,
    fn: 0,
  });
  return { perType, overall: score(total.tp, total.fp, total.fn), decoysReported, decoys, errors };
}
