import { ModelportError } from "../../core/errors.js";
import { checkNotEmpty, checkSameLength } from "./labels.js";

/** MSE, RMSE, MAE and R² as scikit-learn 1.2 defines them (single output, no sample weights). */

function check(yTrue: readonly number[], yPred: readonly number[]): void {
  checkSameLength(yTrue, yPred, ["yTrue", "yPred"]);
  checkNotEmpty(yTrue, "yTrue");
  for (const [name, values] of [
    ["yTrue", yTrue],
    ["yPred", yPred],
  ] as const) {
    for (const value of values) {
      if (!Number.isFinite(value)) {
        throw new ModelportError("MP_INVALID_REQUEST", `${name} must be finite numbers, got ${value}`, {
          param: name,
        });
      }
    }
  }
}

export function meanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  check(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += ((yTrue[i] as number) - (yPred[i] as number)) ** 2;
  return sum / yTrue.length;
}

/** sklearn 1.2's `mean_squared_error(squared=False)`: the square root of the MSE. */
export function rootMeanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred));
}

export function meanAbsoluteError(yTrue: readonly number[], yPred: readonly number[]): number {
  check(yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs((yTrue[i] as number) - (yPred[i] as number));
  return sum / yTrue.length;
}

/**
 * sklearn's `r2_score` with `force_finite=True`: 1 − SS_res / SS_tot; when yTrue is constant
 * (SS_tot = 0) a perfect prediction scores 1 and any other 0, instead of NaN/−∞. Fewer than two
 * samples: NaN, as sklearn returns (with a warning).
 */
export function r2Score(yTrue: readonly number[], yPred: readonly number[]): number {
  check(yTrue, yPred);
  if (yTrue.length < 2) return Number.NaN;
  let mean = 0;
  for (const value of yTrue) mean += value;
  mean /= yTrue.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    residual += ((yTrue[i] as number) - (yPred[i] as number)) ** 2;
    total += ((yTrue[i] as number) - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  if (residual === 0) return 1;
  return 1 - residual / total;
}

export interface RegressionMetrics {
  count: number;
  mse: number;
  rmse: number;
  mae: number;
  /** NaN (serialised as null by JSON) with fewer than two samples. */
  r2: number;
}

export function regressionMetrics(yTrue: readonly number[], yPred: readonly number[]): RegressionMetrics {
  const mse = meanSquaredError(yTrue, yPred);
  return {
    count: yTrue.length,
    mse,
    rmse: Math.sqrt(mse),
    mae: meanAbsoluteError(yTrue, yPred),
    r2: r2Score(yTrue, yPred),
  };
}
