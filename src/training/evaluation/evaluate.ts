import { ModelportError } from "../../core/errors.js";
import { type Calibration, calibration } from "./calibration.js";
import {
  type AveragedScores,
  accuracy,
  type ClassScores,
  confusionMatrix,
  precisionRecallF1,
  type ZeroDivision,
} from "./classification-metrics.js";
import { checkNotEmpty, checkSameLength, indexLabels, type Label, labelKey, uniqueLabels } from "./labels.js";
import { logLoss } from "./log-loss.js";
import { type RegressionMetrics, regressionMetrics } from "./regression-metrics.js";
import { rocAucBinary, rocAucOvr } from "./roc-auc.js";

export interface ClassificationInput {
  yTrue: readonly Label[];
  /** Predicted labels; derived from `probabilities` (argmax, first on ties) when absent. */
  yPred?: readonly Label[];
  /** `probabilities[i][j]`: probability of `classes[j]` for sample i. */
  probabilities?: ReadonlyArray<readonly number[]>;
  /** The model's classes: the columns of `probabilities`. Default: sorted union of yTrue and yPred. */
  classes?: readonly Label[];
  zeroDivision?: ZeroDivision;
  /** Calibration bins (default 10). */
  bins?: number;
}

export interface ClassificationReport {
  task: "classification";
  count: number;
  /** Sorted classes (sklearn order): rows/columns of the confusion matrix, order of perClass. */
  labels: Label[];
  accuracy: number;
  perClass: ClassScores[];
  macro: AveragedScores;
  weighted: AveragedScores;
  micro: AveragedScores;
  /** Binary problems: precision/recall/F1 of the positive (greater) class, sklearn's average="binary". */
  binary: (AveragedScores & { positiveLabel: Label }) | null;
  confusionMatrix: number[][];
  /** null without probabilities, or when yTrue holds a single class (undefined). */
  rocAuc: { binary: number | null; macroOvr: number | null; weightedOvr: number | null } | null;
  logLoss: number | null;
  calibration: Calibration | null;
  warnings: string[];
}

/** Reorders probability columns from `classes` order to sorted `labels` order. */
function toSortedColumns(
  probabilities: ReadonlyArray<readonly number[]>,
  classes: readonly Label[],
  labels: readonly Label[],
): number[][] {
  const position = indexLabels(classes);
  const permutation = labels.map((label) => position.get(labelKey(label)) ?? -1);
  return probabilities.map((row, i) => {
    if (row.length !== classes.length) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `probabilities row ${i} has ${row.length} columns but there are ${classes.length} classes`,
        { param: "probabilities" },
      );
    }
    return permutation.map((column) => (column < 0 ? 0 : (row[column] as number)));
  });
}

function argmaxLabels(probabilities: ReadonlyArray<readonly number[]>, classes: readonly Label[]): Label[] {
  return probabilities.map((row) => {
    let best = 0;
    for (let j = 1; j < row.length; j++) if ((row[j] as number) > (row[best] as number)) best = j;
    return classes[best] as Label;
  });
}

/** Every classification metric of the evaluation step, on one set of predictions. */
export function evaluateClassification(input: ClassificationInput): ClassificationReport {
  const { yTrue, probabilities } = input;
  checkNotEmpty(yTrue, "yTrue");
  if (input.yPred === undefined && probabilities === undefined) {
    throw new ModelportError("MP_INVALID_REQUEST", "give yPred, probabilities or both", { param: "yPred" });
  }
  if (probabilities !== undefined) checkSameLength(yTrue, probabilities, ["yTrue", "probabilities"]);
  if (probabilities !== undefined && input.yPred === undefined && input.classes === undefined) {
    throw new ModelportError("MP_INVALID_REQUEST", "probabilities without yPred need classes (the column labels)", {
      param: "classes",
    });
  }
  let classes: readonly Label[];
  if (input.classes === undefined) {
    classes = uniqueLabels(yTrue, input.yPred ?? []);
  } else {
    // Validates (one kind of label, no duplicates) but keeps the model's column order.
    uniqueLabels(input.classes);
    indexLabels(input.classes);
    classes = input.classes;
  }
  const yPred = input.yPred ?? argmaxLabels(probabilities ?? [], classes);
  checkSameLength(yTrue, yPred, ["yTrue", "yPred"]);
  const labels = uniqueLabels(classes, yTrue, yPred);

  const prf = precisionRecallF1(yTrue, yPred, { labels, zeroDivision: input.zeroDivision ?? "warn" });
  const warnings = [...prf.warnings];
  let binary: ClassificationReport["binary"] = null;
  const positiveLabel = labels[1];
  if (labels.length === 2 && positiveLabel !== undefined) {
    const positive = prf.perClass[1] as ClassScores;
    binary = { positiveLabel, precision: positive.precision, recall: positive.recall, f1: positive.f1 };
  }

  let rocAuc: ClassificationReport["rocAuc"] = null;
  let loss: number | null = null;
  let calibrationResult: Calibration | null = null;
  if (probabilities !== undefined) {
    if (labels.length !== classes.length) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `yTrue or yPred hold labels that are not among the ${classes.length} probability columns`,
        { param: "classes" },
      );
    }
    const sorted = toSortedColumns(probabilities, classes, labels);
    const present = uniqueLabels(yTrue).length;
    if (present < 2) {
      warnings.push("ROC AUC is undefined: yTrue holds a single class");
      rocAuc = { binary: null, macroOvr: null, weightedOvr: null };
    } else if (labels.length === 2) {
      rocAuc = {
        binary: rocAucBinary(
          yTrue,
          sorted.map((row) => row[1] as number),
          { positiveLabel: labels[1] as Label },
        ),
        macroOvr: null,
        weightedOvr: null,
      };
    } else if (present < labels.length) {
      warnings.push("one-vs-rest ROC AUC is undefined: some classes do not occur in yTrue");
      rocAuc = { binary: null, macroOvr: null, weightedOvr: null };
    } else {
      const ovr = rocAucOvr(yTrue, sorted, { labels });
      rocAuc = { binary: null, macroOvr: ovr.macro, weightedOvr: ovr.weighted };
    }
    loss = logLoss(yTrue, sorted, { labels });
    calibrationResult = calibration(yTrue, sorted, {
      labels,
      ...(input.bins === undefined ? {} : { bins: input.bins }),
    });
  }

  return {
    task: "classification",
    count: yTrue.length,
    labels,
    accuracy: accuracy(yTrue, yPred),
    perClass: prf.perClass,
    macro: prf.macro,
    weighted: prf.weighted,
    micro: prf.micro,
    binary,
    confusionMatrix: confusionMatrix(yTrue, yPred, { labels }).matrix,
    rocAuc,
    logLoss: loss,
    calibration: calibrationResult,
    warnings,
  };
}

export interface RegressionReport extends RegressionMetrics {
  task: "regression";
}

export function evaluateRegression(input: { yTrue: readonly number[]; yPred: readonly number[] }): RegressionReport {
  return { task: "regression", ...regressionMetrics(input.yTrue, input.yPred) };
}

export type EvaluationReport = ClassificationReport | RegressionReport;

/**
 * The flat numbers a registry shows and a promotion gate compares (`models list --json` →
 * `metrics`). Classification: `f1` is the positive class's F1 for binary problems, macro F1
 * otherwise. Undefined metrics are left out rather than set to NaN.
 */
export function summarizeMetrics(report: EvaluationReport): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined && Number.isFinite(value)) out[name] = value;
  };
  if (report.task === "regression") {
    put("mse", report.mse);
    put("rmse", report.rmse);
    put("mae", report.mae);
    put("r2", report.r2);
    return out;
  }
  put("accuracy", report.accuracy);
  put("f1", report.binary?.f1 ?? report.macro.f1);
  put("precision", report.binary?.precision ?? report.macro.precision);
  put("recall", report.binary?.recall ?? report.macro.recall);
  put("f1Macro", report.macro.f1);
  put("f1Weighted", report.weighted.f1);
  put("rocAuc", report.rocAuc?.binary ?? report.rocAuc?.macroOvr);
  put("logLoss", report.logLoss);
  put("ece", report.calibration?.ece);
  return out;
}

/** Which metrics are better when larger, for promotion gates. */
export const higherIsBetter: Readonly<Record<string, boolean>> = Object.freeze({
  accuracy: true,
  f1: true,
  precision: true,
  recall: true,
  f1Macro: true,
  f1Weighted: true,
  rocAuc: true,
  r2: true,
  logLoss: false,
  ece: false,
  mse: false,
  rmse: false,
  mae: false,
});
