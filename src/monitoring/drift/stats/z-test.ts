import { normalCdf } from "../special/normal.js";
import { type Counts, compareKeys, totalOf, unionKeys } from "./counts.js";

export interface ZTestResult {
  statistic: number;
  pValue: number;
}

/**
 * Evidently's `z_stat_test` (evidently/legacy/calculations/stattests/z_stattest.py): the
 * two-proportion z-test with a pooled proportion on the indicator "value is not the smallest
 * category", two-sided p = 2·(1 − Φ(|z|)). When both samples hold the same single value the
 * p-value is 1 (and the statistic 0).
 */
export function zTest(reference: Counts, current: Counts): ZTestResult {
  const keys = unionKeys(reference, current).sort(compareKeys);
  if (keys.length === 1) return { statistic: 0, pValue: 1 };
  const first = keys[0] as string | number;
  const n1 = totalOf(reference);
  const n2 = totalOf(current);
  const p1 = (n1 - (reference.get(first) ?? 0)) / n1;
  const p2 = (n2 - (current.get(first) ?? 0)) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: 2 * (1 - normalCdf(Math.abs(statistic))) };
}
