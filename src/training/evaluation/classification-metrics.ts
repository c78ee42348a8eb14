import { ModelportError } from "../../core/errors.js";
import { checkNotEmpty, checkSameLength, indexLabels, type Label, labelKey, uniqueLabels } from "./labels.js";

/**
 * Accuracy, confusion matrix and precision/recall/F1 with the definitions of scikit-learn 1.2
 * (Debian's python3-sklearn), checked against vectors it produced (fixtures/*.json).
 */

/**
 * sklearn's `zero_division`: the value a ratio takes when its denominator is 0. `"warn"` behaves as
 * 0 and also adds a warning to the result (sklearn raises UndefinedMetricWarning).
 */
export type ZeroDivision = "warn" | 0 | 1;

export function accuracy(yTrue: readonly Label[], yPred: readonly Label[]): number {
  checkSameLength(yTrue, yPred, ["yTrue", "yPred"]);
  checkNotEmpty(yTrue, "yTrue");
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (labelKey(yTrue[i] as Label) === labelKey(yPred[i] as Label)) correct++;
  return correct / yTrue.length;
}

export interface ConfusionMatrix {
  /** Row/column order: sklearn's (sorted union of yTrue and yPred) unless `labels` was given. */
  labels: Label[];
  /** `matrix[i][j]`: samples whose true label is labels[i] and predicted label is labels[j]. */
  matrix: number[][];
}

/** sklearn's `confusion_matrix`: samples whose true or predicted label is not in `labels` are left out. */
export function confusionMatrix(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: { labels?: readonly Label[] } = {},
): ConfusionMatrix {
  checkSameLength(yTrue, yPred, ["yTrue", "yPred"]);
  checkNotEmpty(yTrue, "yTrue");
  const labels = options.labels === undefined ? uniqueLabels(yTrue, yPred) : [...options.labels];
  checkNotEmpty(labels, "labels");
  const index = indexLabels(labels);
  if (options.labels !== undefined && !yTrue.some((label) => index.has(labelKey(label)))) {
    throw new ModelportError("MP_INVALID_REQUEST", "none of the given labels occurs in yTrue", { param: "labels" });
  }
  const matrix = labels.map(() => labels.map(() => 0));
  for (let i = 0; i < yTrue.length; i++) {
    const row = index.get(labelKey(yTrue[i] as Label));
    const column = index.get(labelKey(yPred[i] as Label));
    if (row === undefined || column === undefined) continue;
    (matrix[row] as number[])[column] = ((matrix[row] as number[])[column] as number) + 1;
  }
  return { labels, matrix };
}

export interface ClassScores {
  label: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of this class. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface PrecisionRecallF1 {
  perClass: ClassScores[];
  macro: AveragedScores;
  /** Weighted by support; sklearn's special case when every support is 0 applies. */
  weighted: AveragedScores;
  micro: AveragedScores;
  /** Undefined ratios that were set to the zero-division value (only with zeroDivision "warn"). */
  warnings: string[];
}

interface Counts {
  tp: number[];
  predicted: number[];
  actual: number[];
}

function countPerLabel(yTrue: readonly Label[], yPred: readonly Label[], labels: readonly Label[]): Counts {
  const index = indexLabels(labels);
  const tp = labels.map(() => 0);
  const predicted = labels.map(() => 0);
  const actual = labels.map(() => 0);
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(labelKey(yTrue[i] as Label));
    const p = index.get(labelKey(yPred[i] as Label));
    if (t !== undefined) actual[t] = (actual[t] as number) + 1;
    if (p !== undefined) predicted[p] = (predicted[p] as number) + 1;
    if (t !== undefined && t === p) tp[t] = (tp[t] as number) + 1;
  }
  return { tp, predicted, actual };
}

/** sklearn's `_prf_divide`: a zero denominator yields the zero-division value. */
function divide(numerator: number, denominator: number, zeroDivision: ZeroDivision): number {
  if (denominator === 0) return zeroDivision === 1 ? 1 : 0;
  return numerator / denominator;
}

/** sklearn 1.2's F-beta from precision and recall: a zero denominator gives 0, not the zero-division value. */
function fScore(precision: number, recall: number): number {
  const denominator = precision + recall;
  return denominator === 0 ? 0 : (2 * precision * recall) / denominator;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function weightedMean(values: readonly number[], weights: readonly number[]): number {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    sum += (values[i] as number) * (weights[i] as number);
    total += weights[i] as number;
  }
  return sum / total;
}

/**
 * sklearn's `precision_recall_fscore_support` for every average at once. Labels default to the
 * sorted union of yTrue and yPred; with an explicit `labels`, only those classes count (micro
 * sums over them only, as sklearn does).
 */
export function precisionRecallF1(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  options: { labels?: readonly Label[]; zeroDivision?: ZeroDivision } = {},
): PrecisionRecallF1 {
  checkSameLength(yTrue, yPred, ["yTrue", "yPred"]);
  checkNotEmpty(yTrue, "yTrue");
  const zeroDivision = options.zeroDivision ?? "warn";
  if (zeroDivision !== "warn" && zeroDivision !== 0 && zeroDivision !== 1) {
    throw new ModelportError("MP_INVALID_REQUEST", 'zeroDivision must be "warn", 0 or 1', { param: "zeroDivision" });
  }
  const labels = options.labels === undefined ? uniqueLabels(yTrue, yPred) : [...options.labels];
  checkNotEmpty(labels, "labels");
  const { tp, predicted, actual } = countPerLabel(yTrue, yPred, labels);
  const warnings: string[] = [];
  const warn = zeroDivision === "warn";

  const perClass: ClassScores[] = labels.map((label, i) => {
    const precision = divide(tp[i] as number, predicted[i] as number, zeroDivision);
    const recall = divide(tp[i] as number, actual[i] as number, zeroDivision);
    if (warn && predicted[i] === 0) warnings.push(`precision of ${String(label)} is undefined (no predicted samples)`);
    if (warn && actual[i] === 0) warnings.push(`recall of ${String(label)} is undefined (no true samples)`);
    return { label, precision, recall, f1: fScore(precision, recall), support: actual[i] as number };
  });

  const precisions = perClass.map((scores) => scores.precision);
  const recalls = perClass.map((scores) => scores.recall);
  const f1s = perClass.map((scores) => scores.f1);
  const macro = { precision: mean(precisions), recall: mean(recalls), f1: mean(f1s) };

  const supportSum = actual.reduce((sum, value) => sum + value, 0);
  let weighted: AveragedScores;
  if (supportSum === 0) {
    // sklearn returns early here: every ratio is the zero-division value, except that with
    // predictions present, precision and F1 are 0.
    const value = zeroDivision === 1 ? 1 : 0;
    const predictedSum = predicted.reduce((sum, count) => sum + count, 0);
    weighted =
      predictedSum === 0 ? { precision: value, recall: value, f1: value } : { precision: 0, recall: value, f1: 0 };
  } else {
    weighted = {
      precision: weightedMean(precisions, actual),
      recall: weightedMean(recalls, actual),
      f1: weightedMean(f1s, actual),
    };
  }

  const tpSum = tp.reduce((sum, value) => sum + value, 0);
  const predictedSum = predicted.reduce((sum, value) => sum + value, 0);
  const microPrecision = divide(tpSum, predictedSum, zeroDivision);
  const microRecall = divide(tpSum, supportSum, zeroDivision);
  const micro = { precision: microPrecision, recall: microRecall, f1: fScore(microPrecision, microRecall) };

  return { perClass, macro, weighted, micro, warnings };
}
