/** x·ln(x/y) with SciPy `rel_entr`'s conventions at 0. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/** `scipy.spatial.distance.jensenshannon(p, q)` with the natural logarithm. */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sumP = 0;
  let sumQ = 0;
  for (let i = 0; i < p.length; i++) sumP += p[i] as number;
  for (let i = 0; i < q.length; i++) sumQ += q[i] as number;
  let left = 0;
  let right = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = (p[i] as number) / sumP;
    const qi = (q[i] as number) / sumQ;
    const m = (pi + qi) / 2;
    left += relativeEntropy(pi, m);
    right += relativeEntropy(qi, m);
  }
  return Math.sqrt((left + right) / 2);
}

/**
 * Population stability index as Evidently's `psi.py` computes it on binned shares (after the
 * zero replacement of `get_binned_data`): Σ (r − c)·ln(r/c).
 */
export function populationStabilityIndex(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    psi += (r - c) * Math.log(r / c);
  }
  return psi;
}
