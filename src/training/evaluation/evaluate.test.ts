import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { calibration } from "./calibration.js";
import { confusionMatrix, precisionRecallF1 } from "./classification-metrics.js";
import { evaluateClassification, evaluateRegression, summarizeMetrics } from "./evaluate.js";
import { uniqueLabels } from "./labels.js";
import { logLoss } from "./log-loss.js";
import { rocAucBinary, rocAucOvr } from "./roc-auc.js";
import { classificationBySlice, groupBySlice, regressionBySlice } from "./slices.js";

const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === "MP_INVALID_REQUEST" && pattern.test(error.message);

test("labels sort like numpy: numbers numerically, strings by code point; mixes are refused", () => {
  assert.deepEqual(uniqueLabels([10, 9, 100, 9]), [9, 10, 100]);
  // U+FF5E (BMP) sorts before U+1F600 (astral) by code point, though its UTF-16 unit is larger.
  assert.deepEqual(uniqueLabels(["😀", "～", "B", "a"]), ["B", "a", "～", "😀"]);
  assert.throws(() => uniqueLabels([1, "1"]), invalid(/mix strings and numbers/));
  assert.throws(() => uniqueLabels([Number.NaN]), invalid(/finite numbers/));
});

test("bad input is refused with MP_INVALID_REQUEST, naming the problem", () => {
  assert.throws(() => precisionRecallF1([1, 2], [1]), invalid(/yTrue has 2 entries but yPred has 1/));
  assert.throws(() => precisionRecallF1([], []), invalid(/yTrue is empty/));
  assert.throws(() => confusionMatrix([1, 2], [1, 2], { labels: [7] }), invalid(/none of the given labels/));
  assert.throws(() => rocAucBinary([1, 1, 1], [0.1, 0.2, 0.3]), invalid(/only one class/));
  assert.throws(() => rocAucBinary([0, 1, 2], [0.1, 0.2, 0.3]), invalid(/more than two classes/));
  assert.throws(() => rocAucBinary([0, 1], [0.1, Number.NaN]), invalid(/finite/));
  assert.throws(
    () =>
      rocAucOvr(
        [0, 1, 2],
        [
          [0.5, 0.5, 0.5],
          [0.2, 0.3, 0.5],
          [0.1, 0.1, 0.8],
        ],
      ),
    invalid(/sums to 1.5/),
  );
  assert.throws(() => logLoss([1, 1], [0.2, 0.3]), invalid(/at least two classes/));
  assert.throws(
    () =>
      logLoss(
        [0, 1, 2],
        [
          [0.5, 0.5],
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    invalid(/2 columns but there are 3 classes/),
  );
  assert.throws(
    () =>
      calibration(
        [0, 1],
        [
          [0.5, 0.5],
          [-0.5, 1.5],
        ],
      ),
    invalid(/outside \[0, 1\]/),
  );
  assert.throws(() => evaluateRegression({ yTrue: [1, 2], yPred: [1, Number.POSITIVE_INFINITY] }), invalid(/finite/));
});

test("a tie between a positive and a negative counts half (ROC AUC)", () => {
  assert.equal(rocAucBinary([0, 1], [0.5, 0.5]), 0.5);
  assert.equal(rocAucBinary([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  assert.equal(rocAucBinary(["ham", "spam", "spam"], [0.2, 0.2, 0.9]), 0.75);
  // An explicit positive label flips the orientation.
  assert.equal(rocAucBinary(["ham", "spam"], [0.9, 0.1], { positiveLabel: "ham" }), 1);
});

test("zero division: 'warn' scores 0 and reports which ratio was undefined; 1 scores 1", () => {
  const warned = precisionRecallF1(["a", "a", "b"], ["a", "a", "a"]);
  assert.equal(warned.perClass[1]?.precision, 0);
  assert.ok(warned.warnings.some((warning) => /precision of b is undefined/.test(warning)));
  const ones = precisionRecallF1(["a", "a", "b"], ["a", "a", "a"], { zeroDivision: 1 });
  assert.equal(ones.perClass[1]?.precision, 1);
  assert.deepEqual(ones.warnings, []);
  assert.throws(() => precisionRecallF1([1], [1], { zeroDivision: 2 as 1 }), invalid(/zeroDivision/));
});

test("evaluateClassification derives predictions from probabilities and reorders unsorted class columns", () => {
  // The model's columns are [spam, ham]: sklearn expects sorted columns, so the report reorders them.
  const report = evaluateClassification({
    yTrue: ["spam", "ham", "ham", "spam"],
    probabilities: [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
      [0.7, 0.3],
    ],
    classes: ["spam", "ham"],
  });
  assert.deepEqual(report.labels, ["ham", "spam"]);
  assert.equal(report.accuracy, 0.75);
  assert.deepEqual(report.confusionMatrix, [
    [1, 1],
    [0, 2],
  ]);
  assert.equal(report.binary?.positiveLabel, "spam");
  assert.equal(report.binary?.recall, 1);
  assert.equal(report.rocAuc?.binary, 1);
  const expectedLoss = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(0.7)) / 4;
  assert.ok(Math.abs((report.logLoss ?? 0) - expectedLoss) < 1e-15);
  assert.equal(report.calibration?.mode, "positive-class");

  const summary = summarizeMetrics(report);
  assert.equal(summary.accuracy, 0.75);
  assert.equal(summary.f1, report.binary?.f1);
  assert.equal(summary.rocAuc, 1);
  assert.throws(() => evaluateClassification({ yTrue: ["a"], probabilities: [[1]] }), invalid(/need classes/));
  assert.throws(
    () =>
      evaluateClassification({
        yTrue: ["a", "c"],
        yPred: ["a", "a"],
        probabilities: [
          [1, 0],
          [1, 0],
        ],
        classes: ["a", "b"],
      }),
    invalid(/not among the 2 probability columns/),
  );
});

test("a multiclass report without every class in yTrue leaves ROC AUC null with a warning", () => {
  const report = evaluateClassification({
    yTrue: [0, 1, 1],
    probabilities: [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.3, 0.4],
    ],
    classes: [0, 1, 2],
  });
  assert.deepEqual(report.rocAuc, { binary: null, macroOvr: null, weightedOvr: null });
  assert.ok(report.warnings.some((warning) => /one-vs-rest ROC AUC is undefined/.test(warning)));
  assert.equal(report.calibration?.mode, "confidence");
  assert.equal(summarizeMetrics(report).rocAuc, undefined);
});

test("metrics by slice group rows by the slice column's value", () => {
  const yTrue = ["a", "b", "a", "b", "a", "b"];
  const yPred = ["a", "b", "b", "b", "a", "a"];
  const slice = ["fr", "de", "fr", null, "de", "fr"];
  const slices = classificationBySlice({ yTrue, yPred }, slice);
  assert.deepEqual(
    slices.map((s) => [s.value, s.count]),
    [
      ["de", 2],
      ["fr", 3],
      [null, 1],
    ],
  );
  assert.equal(slices[0]?.metrics.accuracy, 1);
  assert.equal(slices[1]?.metrics.accuracy, 1 / 3);
  // Every slice keeps the full label set, even where a class is absent.
  assert.deepEqual(slices[2]?.metrics.labels, ["a", "b"]);
  assert.throws(() => classificationBySlice({ yTrue, yPred }, ["x"]), invalid(/slice column has 1 values/));

  const regression = regressionBySlice({ yTrue: [1, 2, 3, 4], yPred: [1, 2, 5, 4] }, [1, 1, 2, 2]);
  assert.deepEqual(
    regression.map((s) => [s.value, s.metrics.mse]),
    [
      [1, 0],
      [2, 2],
    ],
  );
  assert.deepEqual(
    groupBySlice([true, 2, "x", false, 1]).map((group) => group.value),
    [1, 2, "x", false, true],
  );
});
