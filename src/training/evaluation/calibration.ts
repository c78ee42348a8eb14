import { ModelportError } from "../../core/errors.js";
import { checkNotEmpty, checkSameLength, indexLabels, type Label, labelKey, uniqueLabels } from "./labels.js";

/**
 * Expected calibration error. scikit-learn has no ECE, so this is our definition (the one of Guo
 * et al. 2017, "On Calibration of Modern Neural Networks"), cross-checked against the numpy
 * implementation in scripts/vectors/eval_vectors.py:
 *
 * - `bins` equal-width bins over [0, 1] (10 by default); a score s falls in bin
 *   `min(floor(s * bins), bins - 1)`, so bin b covers [b/bins, (b+1)/bins) and the last one
 *   includes 1.
 * - Binary problems (2 labels): the score is the probability of the positive class (the greater
 *   label) and the outcome is "the sample is positive": ECE measures the reliability of P(y=1).
 * - Multiclass (> 2 labels): the score is the confidence max_j p_j and the outcome is "the
 *   argmax (first maximum on ties, as numpy's argmax) is the true class".
 * - ECE = Σ_b (n_b / N) · |mean(outcome in b) − mean(score in b)|; empty bins contribute 0.
 */

export interface CalibrationBin {
  /** Inclusive lower edge. */
  lower: number;
  /** Exclusive upper edge (inclusive for the last bin). */
  upper: number;
  count: number;
  /** Mean score in the bin, null when empty. */
  meanScore: number | null;
  /** Fraction of positive outcomes in the bin, null when empty. */
  observed: number | null;
}

export interface Calibration {
  ece: number;
  /** The largest bin gap (maximum calibration error), over non-empty bins. */
  mce: number;
  mode: "positive-class" | "confidence";
  bins: CalibrationBin[];
}

export function calibration(
  yTrue: readonly Label[],
  probabilities: ReadonlyArray<readonly number[]>,
  options: { labels?: readonly Label[]; bins?: number } = {},
): Calibration {
  checkSameLength(yTrue, probabilities, ["yTrue", "probabilities"]);
  checkNotEmpty(yTrue, "yTrue");
  const binCount = options.bins ?? 10;
  if (!Number.isInteger(binCount) || binCount < 1) {
    throw new ModelportError("MP_INVALID_REQUEST", "bins must be a positive integer", { param: "bins" });
  }
  const labels = options.labels === undefined ? uniqueLabels(yTrue) : [...options.labels];
  if (labels.length < 2) {
    throw new ModelportError("MP_INVALID_REQUEST", "calibration needs at least two classes (pass labels)", {
      param: "labels",
    });
  }
  const index = indexLabels(labels);
  const mode = labels.length === 2 ? "positive-class" : "confidence";

  const counts = new Array<number>(binCount).fill(0);
  const scoreSums = new Array<number>(binCount).fill(0);
  const outcomeSums = new Array<number>(binCount).fill(0);
  for (let i = 0; i < yTrue.length; i++) {
    const row = probabilities[i] as readonly number[];
    if (row.length !== labels.length) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `probabilities row ${i} has ${row.length} columns but there are ${labels.length} classes`,
        { param: "probabilities" },
      );
    }
    const truth = index.get(labelKey(yTrue[i] as Label));
    if (truth === undefined) {
      throw new ModelportError("MP_INVALID_REQUEST", `yTrue holds ${String(yTrue[i])}, which is not in labels`, {
        param: "labels",
      });
    }
    let score: number;
    let outcome: number;
    if (mode === "positive-class") {
      score = row[1] as number;
      outcome = truth === 1 ? 1 : 0;
    } else {
      let best = 0;
      for (let j = 1; j < row.length; j++) if ((row[j] as number) > (row[best] as number)) best = j;
      score = row[best] as number;
      outcome = best === truth ? 1 : 0;
    }
    if (!(score >= 0 && score <= 1)) {
      throw new ModelportError("MP_INVALID_REQUEST", `probabilities row ${i} has a score outside [0, 1]: ${score}`, {
        param: "probabilities",
      });
    }
    const bin = Math.min(Math.floor(score * binCount), binCount - 1);
    counts[bin] = (counts[bin] as number) + 1;
    scoreSums[bin] = (scoreSums[bin] as number) + score;
    outcomeSums[bin] = (outcomeSums[bin] as number) + outcome;
  }

  let ece = 0;
  let mce = 0;
  const bins: CalibrationBin[] = counts.map((count, b) => {
    const lower = b / binCount;
    const upper = (b + 1) / binCount;
    if (count === 0) return { lower, upper, count, meanScore: null, observed: null };
    const meanScore = (scoreSums[b] as number) / count;
    const observed = (outcomeSums[b] as number) / count;
    const gap = Math.abs(observed - meanScore);
    ece += (count / yTrue.length) * gap;
    mce = Math.max(mce, gap);
    return { lower, upper, count, meanScore, observed };
  });
  return { ece, mce, mode, bins };
}
