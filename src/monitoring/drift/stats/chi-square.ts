import { chiSquareSf } from "../special/gamma.js";
import { type Counts, totalOf, unionKeys } from "./counts.js";

export interface ChiSquareResult {
  /** Pearson's statistic; Infinity when the current sample has a category the reference lacks. */
  statistic: number;
  pValue: number;
}

/**
 * Evidently's `chi_stat_test` (evidently/legacy/calculations/stattests/chisquare_stattest.py):
 * `scipy.stats.chisquare(f_obs, f_exp)` over the union of categories, with f_obs the current
 * counts and f_exp the reference counts scaled by n_current/n_reference; k−1 degrees of freedom.
 * A category absent from the reference gives f_exp = 0, an infinite statistic and p = 0, as
 * SciPy does; a single category gives 0 degrees of freedom and p = NaN.
 */
export function chiSquareTest(reference: Counts, current: Counts): ChiSquareResult {
  const keys = unionKeys(reference, current);
  const kNorm = totalOf(current) / totalOf(reference);
  let statistic = 0;
  for (const key of keys) {
    const expected = (reference.get(key) ?? 0) * kNorm;
    const observed = current.get(key) ?? 0;
    statistic += (observed - expected) ** 2 / expected;
  }
  return { statistic, pValue: chiSquareSf(statistic, keys.length - 1) };
}
