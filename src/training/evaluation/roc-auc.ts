import { ModelportError } from "../../core/errors.js";
import { checkNotEmpty, checkSameLength, indexLabels, type Label, labelKey, uniqueLabels } from "./labels.js";

/**
 * ROC curve and area as scikit-learn 1.2 computes them (`roc_curve` with drop_intermediate, then
 * the trapezoid rule): tied scores form one threshold, so a tie between a positive and a negative
 * counts half, exactly as in sklearn.
 */

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Decreasing; the first is `+Infinity` in sklearn ≥ 1.3 and max+1 in 1.2, so we use max+1 too. */
  thresholds: number[];
}

function checkScores(scores: readonly number[], param: string): void {
  for (const score of scores) {
    if (!Number.isFinite(score)) {
      throw new ModelportError("MP_INVALID_REQUEST", `${param} must be finite numbers, got ${score}`, { param });
    }
  }
}

/** `positives[i]` is 1 for the positive class, 0 otherwise. */
export function rocCurve(positives: readonly (0 | 1)[], scores: readonly number[]): RocCurve {
  checkSameLength(positives, scores, ["yTrue", "yScore"]);
  checkNotEmpty(scores, "yScore");
  checkScores(scores, "yScore");
  // sklearn: argsort(kind="mergesort")[::-1] — a stable ascending sort, then reversed; the order
  // within ties does not change the cumulative counts at tie boundaries, so any stable order works.
  const order = scores.map((_, i) => i).sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
  order.reverse();

  // Cumulative true/false positive counts at the last index of each distinct score.
  let fps: number[] = [];
  let tps: number[] = [];
  let thresholds: number[] = [];
  let truePositives = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    truePositives += positives[i] as number;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      tps.push(truePositives);
      fps.push(k + 1 - truePositives);
      thresholds.push(scores[i] as number);
    }
  }

  // drop_intermediate: keep only the corners (second differences non-zero), plus both ends.
  if (fps.length > 2) {
    const keep: number[] = [0];
    for (let k = 1; k < fps.length - 1; k++) {
      const fpsCurvature = (fps[k + 1] as number) - 2 * (fps[k] as number) + (fps[k - 1] as number);
      const tpsCurvature = (tps[k + 1] as number) - 2 * (tps[k] as number) + (tps[k - 1] as number);
      if (fpsCurvature !== 0 || tpsCurvature !== 0) keep.push(k);
    }
    keep.push(fps.length - 1);
    fps = keep.map((k) => fps[k] as number);
    tps = keep.map((k) => tps[k] as number);
    thresholds = keep.map((k) => thresholds[k] as number);
  }

  fps.unshift(0);
  tps.unshift(0);
  thresholds.unshift((thresholds[0] as number) + 1);
  const negatives = fps[fps.length - 1] as number;
  const positivesTotal = tps[tps.length - 1] as number;
  if (negatives === 0 || positivesTotal === 0) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      "ROC AUC is not defined when yTrue holds only one class (sklearn refuses it too)",
      { param: "yTrue" },
    );
  }
  return {
    fpr: fps.map((value) => value / negatives),
    tpr: tps.map((value) => value / positivesTotal),
    thresholds,
  };
}

/** numpy's trapz(y, x). */
function trapezoid(x: readonly number[], y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    area += ((x[i] as number) - (x[i - 1] as number)) * (((y[i] as number) + (y[i - 1] as number)) / 2);
  }
  return area;
}

export function binaryRocAucFromIndicators(positives: readonly (0 | 1)[], scores: readonly number[]): number {
  const curve = rocCurve(positives, scores);
  return trapezoid(curve.fpr, curve.tpr);
}

/**
 * sklearn's binary `roc_auc_score`: the positive class is the greater of the two labels (sorted as
 * sklearn sorts them) unless `positiveLabel` names it; `scores` are the positive class's scores.
 */
export function rocAucBinary(
  yTrue: readonly Label[],
  scores: readonly number[],
  options: { positiveLabel?: Label } = {},
): number {
  checkSameLength(yTrue, scores, ["yTrue", "yScore"]);
  const labels = uniqueLabels(yTrue);
  if (labels.length > 2) {
    throw new ModelportError("MP_INVALID_REQUEST", "yTrue has more than two classes; use rocAucOvr", {
      param: "yTrue",
    });
  }
  const positive = options.positiveLabel ?? labels[labels.length - 1];
  if (labels.length < 2 || positive === undefined) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      "ROC AUC is not defined when yTrue holds only one class (sklearn refuses it too)",
      { param: "yTrue" },
    );
  }
  const positiveKey = labelKey(positive);
  if (!labels.some((label) => labelKey(label) === positiveKey)) {
    throw new ModelportError("MP_INVALID_REQUEST", `positiveLabel ${String(positive)} does not occur in yTrue`, {
      param: "positiveLabel",
    });
  }
  return binaryRocAucFromIndicators(
    yTrue.map((label) => (labelKey(label) === positiveKey ? 1 : 0)),
    scores,
  );
}

export interface OvrRocAuc {
  /** Column order of `probabilities` and of `perClass`. */
  labels: Label[];
  perClass: number[];
  macro: number;
  /** Weighted by each class's prevalence in yTrue. */
  weighted: number;
  /** All one-vs-rest pairs raveled into one binary problem (sklearn ≥ 1.2's average="micro"). */
  micro: number;
}

/**
 * sklearn's `roc_auc_score(multi_class="ovr")`: `probabilities[i][j]` is the probability of
 * `labels[j]` for sample i; rows must sum to 1 within numpy's allclose tolerance. Labels default
 * to the sorted classes of yTrue and must then match the number of columns.
 */
export function rocAucOvr(
  yTrue: readonly Label[],
  probabilities: ReadonlyArray<readonly number[]>,
  options: { labels?: readonly Label[] } = {},
): OvrRocAuc {
  checkSameLength(yTrue, probabilities, ["yTrue", "probabilities"]);
  checkNotEmpty(yTrue, "yTrue");
  const labels = options.labels === undefined ? uniqueLabels(yTrue) : [...options.labels];
  const width = labels.length;
  for (const [i, row] of probabilities.entries()) {
    if (row.length !== width) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `probabilities row ${i} has ${row.length} columns but there are ${width} classes`,
        { param: "probabilities" },
      );
    }
    checkScores(row, "probabilities");
    const sum = row.reduce((total, value) => total + value, 0);
    // numpy.allclose(1, sum): |1 - sum| <= atol + rtol * |sum|
    if (Math.abs(1 - sum) > 1e-8 + 1e-5 * Math.abs(sum)) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `probabilities row ${i} sums to ${sum}; one-vs-rest ROC AUC needs probabilities that sum to 1`,
        { param: "probabilities" },
      );
    }
  }
  const index = indexLabels(labels);
  const classOf = yTrue.map((label) => {
    const column = index.get(labelKey(label));
    if (column === undefined) {
      throw new ModelportError("MP_INVALID_REQUEST", `yTrue holds ${String(label)}, which is not in labels`, {
        param: "labels",
      });
    }
    return column;
  });

  const perClass: number[] = [];
  const prevalence: number[] = [];
  for (let j = 0; j < width; j++) {
    const positives = classOf.map((column) => (column === j ? 1 : 0));
    prevalence.push(positives.reduce<number>((sum, value) => sum + value, 0));
    perClass.push(
      binaryRocAucFromIndicators(
        positives,
        probabilities.map((row) => row[j] as number),
      ),
    );
  }
  const macro = perClass.reduce((sum, value) => sum + value, 0) / width;
  const totalPrevalence = prevalence.reduce((sum, value) => sum + value, 0);
  const weighted = perClass.reduce((sum, value, j) => sum + value * (prevalence[j] as number), 0) / totalPrevalence;

  const raveledPositives: (0 | 1)[] = [];
  const raveledScores: number[] = [];
  for (let i = 0; i < classOf.length; i++) {
    const row = probabilities[i] as readonly number[];
    for (let j = 0; j < width; j++) {
      raveledPositives.push(classOf[i] === j ? 1 : 0);
      raveledScores.push(row[j] as number);
    }
  }
  const micro = binaryRocAucFromIndicators(raveledPositives, raveledScores);
  return { labels, perClass, macro, weighted, micro };
}
