import { ModelportError } from "../../core/errors.js";
import { checkNotEmpty, checkSameLength, indexLabels, type Label, labelKey, uniqueLabels } from "./labels.js";

/**
 * float64 machine epsilon: sklearn 1.2.1 as Debian ships it defaults to `eps="auto"`, i.e.
 * `np.finfo(y_pred.dtype).eps` (older releases clipped at 1e-15; 1.5+ deprecates eps altogether).
 */
export const logLossEpsilon = 2.220446049250313e-16;

/**
 * sklearn's `log_loss` (natural log, mean over samples): probabilities are clipped to
 * [eps, 1 - eps], then each row is renormalised to sum to 1, then −Σ y·log(p). Columns follow the
 * sorted labels (or `labels` as given). A plain number per row is the probability of the greater
 * (positive) class of a binary problem.
 */
export function logLoss(
  yTrue: readonly Label[],
  probabilities: ReadonlyArray<readonly number[] | number>,
  options: { labels?: readonly Label[]; eps?: number } = {},
): number {
  checkSameLength(yTrue, probabilities, ["yTrue", "probabilities"]);
  checkNotEmpty(yTrue, "yTrue");
  const eps = options.eps ?? logLossEpsilon;
  if (!(eps >= 0 && eps < 0.5)) {
    throw new ModelportError("MP_INVALID_REQUEST", "eps must be in [0, 0.5)", { param: "eps" });
  }
  const labels = options.labels === undefined ? uniqueLabels(yTrue) : uniqueLabels(options.labels);
  if (labels.length < 2) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `log loss needs at least two classes; found ${labels.length === 1 ? String(labels[0]) : "none"} (pass labels)`,
      { param: "labels" },
    );
  }
  const index = indexLabels(labels);
  const clip = (value: number) => Math.min(Math.max(value, eps), 1 - eps);

  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const column = index.get(labelKey(yTrue[i] as Label));
    if (column === undefined) {
      throw new ModelportError("MP_INVALID_REQUEST", `yTrue holds ${String(yTrue[i])}, which is not in labels`, {
        param: "labels",
      });
    }
    const raw = probabilities[i] as readonly number[] | number;
    // sklearn clips a 1-D positive-class probability first, then forms [1 - p, p].
    let row: number[];
    if (typeof raw === "number") {
      const p = clip(raw);
      row = [1 - p, p];
    } else {
      row = raw.length === 1 ? [1 - clip(raw[0] as number), clip(raw[0] as number)] : raw.map(clip);
    }
    if (row.length !== labels.length) {
      throw new ModelportError(
        "MP_INVALID_REQUEST",
        `probabilities row ${i} has ${row.length} columns but there are ${labels.length} classes`,
        { param: "probabilities" },
      );
    }
    let sum = 0;
    for (const value of row) {
      if (!Number.isFinite(value)) {
        throw new ModelportError("MP_INVALID_REQUEST", `probabilities row ${i} holds ${value}`, {
          param: "probabilities",
        });
      }
      sum += value;
    }
    total -= Math.log((row[column] as number) / sum);
  }
  return total / yTrue.length;
}
