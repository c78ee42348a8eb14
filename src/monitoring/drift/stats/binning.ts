import { type Counts, totalOf, unionKeys } from "./counts.js";
import type { Support } from "./support.js";

/** One column's sample as a test sees it: ordered values, or category counts. */
export type ColumnSample =
  | { kind: "numeric"; support: Support /** every value is an integer (pandas would read int64) */; integral: boolean }
  | { kind: "categorical"; counts: Counts };

export interface BinnedShares {
  reference: Float64Array;
  current: Float64Array;
}

/** Counts per value of a numeric support, keyed by the value (Evidently's `value_counts`). */
export function countsOfSupport(support: Support): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < support.values.length; i++) counts.set(support.values[i] as number, support.counts[i] as number);
  return counts;
}

/**
 * numpy's `np.histogram_bin_edges(data, bins='sturges')` given the pooled size, min and max:
 * width = ptp/(log2 n + 1) (at least 1 for integer data), ⌈ptp/width⌉ equal bins, edges from
 * `np.linspace` (i·step + first, last edge exactly the maximum).
 */
export function sturgesEdges(size: number, min: number, max: number, integral: boolean): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  let width = (max - min) / (Math.log2(size) + 1);
  let bins = 1;
  if (width) {
    if (integral && width < 1) width = 1;
    bins = Math.ceil((last - first) / width);
  }
  const edges = new Float64Array(bins + 1);
  const step = (last - first) / bins;
  for (let i = 0; i < bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** `np.histogram(sample, edges)[0]`: [e_i, e_i+1) per bin, the last bin closed. */
export function histogramCounts(support: Support, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  const last = edges[bins] as number;
  let bin = 0;
  for (let i = 0; i < support.values.length; i++) {
    const value = support.values[i] as number;
    if (value < (edges[0] as number) || value > last) continue;
    while (bin < bins - 1 && value >= (edges[bin + 1] as number)) bin++;
    counts[bin] = (counts[bin] as number) + (support.counts[i] as number);
  }
  return counts;
}

/**
 * Evidently's `get_binned_data` (evidently/legacy/calculations/stattests/utils.py): numeric
 * columns whose reference has more than 20 distinct values go into Sturges bins over both
 * samples; everything else is compared per value over the union of values. Shares are counts
 * over each sample's size. With `fillZeroes`, empty shares become min(non-zero)/10⁶ when that
 * minimum is ≤ 0.0001 and 0.0001 otherwise (PSI does this, Jensen–Shannon does not).
 */
export function binnedShares(reference: ColumnSample, current: ColumnSample, fillZeroes: boolean): BinnedShares {
  let shares: BinnedShares;
  if (reference.kind === "numeric" && current.kind === "numeric" && reference.support.values.length > 20) {
    const r = reference.support;
    const c = current.support;
    const edges = sturgesEdges(
      r.total + c.total,
      Math.min(r.values[0] as number, c.values[0] as number),
      Math.max(r.values[r.values.length - 1] as number, c.values[c.values.length - 1] as number),
      reference.integral && current.integral,
    );
    shares = {
      reference: histogramCounts(r, edges).map((count) => count / r.total),
      current: histogramCounts(c, edges).map((count) => count / c.total),
    };
  } else {
    const referenceCounts = reference.kind === "numeric" ? countsOfSupport(reference.support) : reference.counts;
    const currentCounts = current.kind === "numeric" ? countsOfSupport(current.support) : current.counts;
    const keys = unionKeys(referenceCounts, currentCounts);
    const referenceTotal = totalOf(referenceCounts);
    const currentTotal = totalOf(currentCounts);
    shares = {
      reference: Float64Array.from(keys, (key) => (referenceCounts.get(key) ?? 0) / referenceTotal),
      current: Float64Array.from(keys, (key) => (currentCounts.get(key) ?? 0) / currentTotal),
    };
  }
  if (fillZeroes) {
    fillZeroShares(shares.reference);
    fillZeroShares(shares.current);
  }
  return shares;
}

function fillZeroShares(shares: Float64Array): void {
  let min = Number.POSITIVE_INFINITY;
  for (const share of shares) if (share !== 0 && share < min) min = share;
  const replacement = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = replacement;
}
