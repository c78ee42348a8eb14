import { kolmogorovSmirnovSf } from "../special/kolmogorov.js";
import type { Support } from "./support.js";

export interface KsResult {
  statistic: number;
  pValue: number;
  /** Which p-value SciPy's `method='auto'` picks: exact up to 10,000 values per sample. */
  method: "exact" | "asymp";
}

/** SciPy's MAX_AUTO_N: `ks_2samp(method='auto')` is exact when both samples have at most this many values. */
const MAX_AUTO_N = 10_000;

/**
 * Two-sided two-sample Kolmogorov–Smirnov test, equal to `scipy.stats.ks_2samp(a, b)` (defaults:
 * two-sided, method 'auto'): the statistic is the largest gap between the empirical CDFs at the
 * pooled values; the p-value is Hodges' exact lattice-path count for samples up to 10,000
 * values and `kstwo.sf(d, round(n1·n2/(n1+n2)))` beyond (scipy/stats/_stats_py.py).
 */
export function ks2samp(a: Support, b: Support): KsResult {
  const n1 = a.total;
  const n2 = b.total;
  if (n1 === 0 || n2 === 0) throw new RangeError("ks2samp needs two non-empty samples");
  let i = 0;
  let j = 0;
  let cumulativeA = 0;
  let cumulativeB = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  while (i < a.values.length || j < b.values.length) {
    const av = i < a.values.length ? (a.values[i] as number) : Number.POSITIVE_INFINITY;
    const bv = j < b.values.length ? (b.values[j] as number) : Number.POSITIVE_INFINITY;
    const point = Math.min(av, bv);
    if (av === point) cumulativeA += a.counts[i++] as number;
    if (bv === point) cumulativeB += b.counts[j++] as number;
    const diff = cumulativeA / n1 - cumulativeB / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(1, Math.max(0, -minDiff));
  let d = Math.max(minS, maxDiff); // SciPy picks minS when larger, maxS otherwise: the same value
  const g = gcd(n1, n2);
  let method: KsResult["method"] = Math.max(n1, n2) <= MAX_AUTO_N ? "exact" : "asymp";
  let pValue = Number.NaN;
  if (method === "exact") {
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    if (h === 0) pValue = 1;
    else pValue = n1 === n2 ? probabilityOutsideSquare(n1, h) : outerProbabilityInside(n1, n2, g, h);
    // SciPy falls back to the asymptotic p-value when the exact computation fails.
    if (!(pValue >= 0 && pValue <= 1)) method = "asymp";
  }
  if (method === "asymp") {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    pValue = kolmogorovSmirnovSf(roundHalfEven(en), d);
  }
  return { statistic: d, pValue: Math.min(1, Math.max(0, pValue)), method };
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** numpy's `np.round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** P(D_{n,n} ≥ h/n): SciPy `_compute_prob_outside_square`, a Horner-like alternating sum. */
function probabilityOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/**
 * The share of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm(m,n):
 * SciPy `_compute_outer_prob_inside_method` (Hodges 1958 with Viehmann's recursion for 1−p).
 */
function outerProbabilityInside(mIn: number, nIn: number, g: number, h: number): number {
  const [m, n] = mIn >= nIn ? [mIn, nIn] : [nIn, mIn];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1] as number;
}
