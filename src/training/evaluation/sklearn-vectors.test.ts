import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { calibration } from "./calibration.js";
import { accuracy, confusionMatrix, precisionRecallF1, type ZeroDivision } from "./classification-metrics.js";
import { evaluateClassification } from "./evaluate.js";
import type { Label } from "./labels.js";
import { logLoss } from "./log-loss.js";
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from "./regression-metrics.js";
import { rocAucBinary, rocAucOvr, rocCurve } from "./roc-auc.js";

// Vectors computed by scikit-learn (scripts/vectors/eval_vectors.py); compared to 1e-12 relative.
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as T;
}

function close(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN (null), got ${actual}`);
    return;
  }
  const tolerance = 1e-12 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: expected ${expected}, got ${actual}`);
}

function closeAll(actual: readonly number[], expected: readonly (number | null)[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (const [i, value] of actual.entries()) close(value, expected[i] ?? null, `${what}[${i}]`);
}

interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

interface ClassificationCase {
  name: string;
  yTrue: Label[];
  yPred: Label[];
  labels: Label[];
  labelsGiven?: Label[];
  classes?: Label[];
  probabilities?: number[][];
  expected: {
    accuracy: number;
    confusionMatrix: number[][];
    prf: Record<
      string,
      {
        perClass: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
        macro: Averages;
        weighted: Averages;
        micro: Averages;
      }
    >;
    logLoss?: number;
    logLossPositiveColumn?: number;
    rocAucBinary?: number;
    rocCurve?: { fpr: number[]; tpr: number[]; thresholds: number[] };
    rocAucOvr?: { macro: number; weighted: number; micro: number; perClass: number[] };
  };
}

const classification = fixture<{ generator: { sklearn: string }; cases: ClassificationCase[] }>("classification.json");

describe(`classification metrics equal sklearn ${classification.generator.sklearn}`, () => {
  assert.ok(classification.cases.length >= 7);
  for (const item of classification.cases) {
    test(item.name, () => {
      const options = item.labelsGiven === undefined ? {} : { labels: item.labelsGiven };
      close(accuracy(item.yTrue, item.yPred), item.expected.accuracy, "accuracy");
      const matrix = confusionMatrix(item.yTrue, item.yPred, options);
      assert.deepEqual(matrix.labels, item.labels);
      assert.deepEqual(matrix.matrix, item.expected.confusionMatrix);

      for (const [zeroDivisionText, expected] of Object.entries(item.expected.prf)) {
        const zeroDivision = (zeroDivisionText === "warn" ? "warn" : Number(zeroDivisionText)) as ZeroDivision;
        const result = precisionRecallF1(item.yTrue, item.yPred, { ...options, zeroDivision });
        const where = `zero_division=${zeroDivisionText}`;
        closeAll(
          result.perClass.map((scores) => scores.precision),
          expected.perClass.precision,
          `${where} precision`,
        );
        closeAll(
          result.perClass.map((scores) => scores.recall),
          expected.perClass.recall,
          `${where} recall`,
        );
        closeAll(
          result.perClass.map((scores) => scores.f1),
          expected.perClass.f1,
          `${where} f1`,
        );
        assert.deepEqual(
          result.perClass.map((scores) => scores.support),
          expected.perClass.support,
        );
        for (const average of ["macro", "weighted", "micro"] as const) {
          for (const metric of ["precision", "recall", "f1"] as const) {
            close(result[average][metric], expected[average][metric], `${where} ${average} ${metric}`);
          }
        }
      }

      const { probabilities, classes } = item;
      if (probabilities === undefined || classes === undefined) return;
      close(logLoss(item.yTrue, probabilities, { labels: classes }), item.expected.logLoss ?? null, "log loss");
      if (item.expected.rocAucBinary !== undefined) {
        const positive = probabilities.map((row) => row[1] as number);
        close(rocAucBinary(item.yTrue, positive), item.expected.rocAucBinary, "binary ROC AUC");
        close(logLoss(item.yTrue, positive), item.expected.logLossPositiveColumn ?? null, "log loss (1-D)");
        const curve = rocCurve(
          item.yTrue.map((label) => (label === classes[1] ? 1 : 0)),
          positive,
        );
        const expectedCurve = item.expected.rocCurve;
        assert.ok(expectedCurve !== undefined);
        closeAll(curve.fpr, expectedCurve.fpr, "fpr");
        closeAll(curve.tpr, expectedCurve.tpr, "tpr");
        closeAll(curve.thresholds, expectedCurve.thresholds, "thresholds");
      }
      if (item.expected.rocAucOvr !== undefined) {
        const ovr = rocAucOvr(item.yTrue, probabilities, { labels: classes });
        close(ovr.macro, item.expected.rocAucOvr.macro, "ovr macro");
        close(ovr.weighted, item.expected.rocAucOvr.weighted, "ovr weighted");
        close(ovr.micro, item.expected.rocAucOvr.micro, "ovr micro");
        closeAll(ovr.perClass, item.expected.rocAucOvr.perClass, "ovr per class");
      }

      // The one-call report agrees with the individual functions.
      const report = evaluateClassification({ yTrue: item.yTrue, yPred: item.yPred, probabilities, classes });
      close(report.accuracy, item.expected.accuracy, "report accuracy");
      close(report.macro.f1, item.expected.prf.warn?.macro.f1 ?? Number.NaN, "report macro f1");
      close(report.logLoss ?? Number.NaN, item.expected.logLoss ?? null, "report log loss");
      const expectedAuc = item.expected.rocAucBinary ?? item.expected.rocAucOvr?.macro ?? null;
      close(report.rocAuc?.binary ?? report.rocAuc?.macroOvr ?? Number.NaN, expectedAuc, "report ROC AUC");
    });
  }
});

interface CalibrationCase {
  name: string;
  source?: string;
  yTrue?: Label[];
  probabilities?: number[][];
  classes?: Label[];
  bins: number;
  expected: {
    ece: number;
    mce: number;
    bins: { count: number; meanScore: number | null; observed: number | null }[];
  };
}

describe("ECE equals the numpy reference implementation", () => {
  const { cases } = fixture<{ cases: CalibrationCase[] }>("calibration.json");
  assert.ok(cases.length >= 5);
  for (const item of cases) {
    test(item.name, () => {
      const source = item.source === undefined ? item : classification.cases.find((c) => c.name === item.source);
      assert.ok(source?.yTrue !== undefined && source.probabilities !== undefined && source.classes !== undefined);
      const result = calibration(source.yTrue, source.probabilities, { labels: source.classes, bins: item.bins });
      close(result.ece, item.expected.ece, "ece");
      close(result.mce, item.expected.mce, "mce");
      assert.equal(result.bins.length, item.bins);
      result.bins.forEach((bin, b) => {
        const expected = item.expected.bins[b];
        assert.ok(expected !== undefined);
        assert.equal(bin.count, expected.count, `bin ${b} count`);
        if (expected.meanScore === null) assert.equal(bin.meanScore, null);
        else close(bin.meanScore ?? Number.NaN, expected.meanScore, `bin ${b} mean score`);
        if (expected.observed === null) assert.equal(bin.observed, null);
        else close(bin.observed ?? Number.NaN, expected.observed, `bin ${b} observed`);
      });
    });
  }
});

interface RegressionCase {
  name: string;
  yTrue: number[];
  yPred: number[];
  expected: { mse: number; rmse: number; mae: number; r2: number | null };
}

describe("regression metrics equal sklearn", () => {
  const { cases } = fixture<{ cases: RegressionCase[] }>("regression.json");
  assert.ok(cases.length >= 6);
  for (const item of cases) {
    test(item.name, () => {
      close(meanSquaredError(item.yTrue, item.yPred), item.expected.mse, "mse");
      close(rootMeanSquaredError(item.yTrue, item.yPred), item.expected.rmse, "rmse");
      close(meanAbsoluteError(item.yTrue, item.yPred), item.expected.mae, "mae");
      close(r2Score(item.yTrue, item.yPred), item.expected.r2, "r2");
    });
  }
});
