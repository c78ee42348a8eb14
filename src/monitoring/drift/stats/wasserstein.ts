import { meanAndStd, type Support } from "./support.js";

/**
 * First Wasserstein distance between two samples, `scipy.stats.wasserstein_distance(u, v)`:
 * ∫|F_u − F_v| dx as the sum over consecutive pooled values of |F_u − F_v|·Δx.
 */
export function wassersteinDistance(u: Support, v: Support): number {
  let i = 0;
  let j = 0;
  let cumulativeU = 0;
  let cumulativeV = 0;
  let previous = Number.NaN;
  let previousGap = 0;
  let distance = 0;
  while (i < u.values.length || j < v.values.length) {
    const uv = i < u.values.length ? (u.values[i] as number) : Number.POSITIVE_INFINITY;
    const vv = j < v.values.length ? (v.values[j] as number) : Number.POSITIVE_INFINITY;
    const point = Math.min(uv, vv);
    if (!Number.isNaN(previous)) distance += previousGap * (point - previous);
    if (uv === point) cumulativeU += u.counts[i++] as number;
    if (vv === point) cumulativeV += v.counts[j++] as number;
    previousGap = Math.abs(cumulativeU / u.total - cumulativeV / v.total);
    previous = point;
  }
  return distance;
}

/**
 * Evidently's `wasserstein_distance_norm`
 * (evidently/legacy/calculations/stattests/wasserstein_distance_norm.py): the distance divided by
 * max(np.std(reference), 0.001).
 */
export function wassersteinNormed(reference: Support, current: Support, referenceStd = meanAndStd(reference).std) {
  return wassersteinDistance(reference, current) / Math.max(referenceStd, 0.001);
}
