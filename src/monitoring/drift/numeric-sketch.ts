import { mergeSupports, runLengthEncode, type Support } from "./stats/support.js";

/**
 * A numeric column summarised without keeping its raw values. Up to `maxSupport` distinct values
 * it is exact (every distinct value with its count: KS, Wasserstein, histograms and value counts
 * computed from it equal SciPy's on the raw data). Beyond that, neighbouring values are merged
 * into weighted centroids with a t-digest scale (finer in the tails), the minimum and maximum
 * kept as their own points; count, mean, standard deviation, minimum and maximum stay exact.
 */
export interface NumericSummary {
  kind: "numeric";
  count: number;
  /** Values that were missing or not finite (dropped before testing, as Evidently does). */
  missing: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (ddof 0), what Evidently normalises Wasserstein by. */
  std: number;
  /** Every value was an integer. */
  integral: boolean;
  /** `support` lists every distinct value exactly (false: merged centroids). */
  exact: boolean;
  support: { values: number[]; counts: number[] };
}

export interface NumericSketchBuilder {
  add(value: number): void;
  addMissing(count?: number): void;
  addMany(values: ArrayLike<number>): void;
  finish(): NumericSummary;
}

const BUFFER_SIZE = 8192;
export const DEFAULT_MAX_SUPPORT = 2048;

export function createNumericSketchBuilder(maxSupport = DEFAULT_MAX_SUPPORT): NumericSketchBuilder {
  if (maxSupport < 8) throw new RangeError("maxSupport must be at least 8");
  const buffer = new Float64Array(BUFFER_SIZE);
  let buffered = 0;
  let support: Support = { values: new Float64Array(0), counts: new Float64Array(0), total: 0 };
  let exact = true;
  let missing = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let mean = 0;
  let m2 = 0;
  let integral = true;

  function flush() {
    if (buffered === 0) return;
    const chunk = runLengthEncode(buffer.subarray(0, buffered).sort());
    buffered = 0;
    support = mergeSupports(support, chunk);
    if (support.values.length > maxSupport) {
      support = compressSupport(support, maxSupport);
      exact = false;
    }
  }

  function add(value: number) {
    if (!Number.isFinite(value)) {
      missing++;
      return;
    }
    count++;
    if (value < min) min = value;
    if (value > max) max = value;
    const delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
    if (integral && !Number.isInteger(value)) integral = false;
    buffer[buffered++] = value;
    if (buffered === BUFFER_SIZE) flush();
  }

  return {
    add,
    addMissing(n = 1) {
      missing += n;
    },
    addMany(values) {
      for (let i = 0; i < values.length; i++) add(values[i] as number);
    },
    finish() {
      flush();
      let finalMean = count === 0 ? Number.NaN : mean;
      let std = count === 0 ? Number.NaN : Math.sqrt(m2 / count);
      if (exact && count > 0) {
        // Two passes over the exact support, as numpy computes np.mean/np.std.
        const moments = exactMoments(support);
        finalMean = moments.mean;
        std = moments.std;
      }
      return {
        kind: "numeric",
        count,
        missing,
        min: count === 0 ? Number.NaN : min,
        max: count === 0 ? Number.NaN : max,
        mean: finalMean,
        std,
        integral,
        exact,
        support: { values: Array.from(support.values), counts: Array.from(support.counts) },
      };
    },
  };
}

function exactMoments(support: Support): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < support.values.length; i++) sum += (support.values[i] as number) * (support.counts[i] as number);
  const mean = sum / support.total;
  let squares = 0;
  for (let i = 0; i < support.values.length; i++) {
    const d = (support.values[i] as number) - mean;
    squares += d * d * (support.counts[i] as number);
  }
  return { mean, std: Math.sqrt(squares / support.total) };
}

/**
 * Merges neighbouring points into at most `maxPoints` centroids (t-digest k1 scale: a centroid
 * may span Δk ≤ 1 with k(q) = δ/2π·asin(2q−1), so tails get small centroids). The first and
 * last points (the exact minimum and maximum) are never merged.
 */
export function compressSupport(support: Support, maxPoints: number): Support {
  const n = support.values.length;
  if (n <= maxPoints) return support;
  const total = support.total;
  // δ/2 clusters fit in k's range; leave room for the two pinned extremes.
  let delta = 2 * (maxPoints - 2) * 0.95;
  for (;;) {
    const out = mergePass(support, delta, total);
    if (out.values.length <= maxPoints) return out;
    delta *= 0.9;
  }
}

function mergePass(support: Support, delta: number, total: number): Support {
  const n = support.values.length;
  const values = new Float64Array(n);
  const counts = new Float64Array(n);
  const scale = (q: number) => (delta / (2 * Math.PI)) * Math.asin(2 * q - 1);
  const inverse = (k: number) => (Math.sin((k * 2 * Math.PI) / delta) + 1) / 2;
  let out = 0;
  values[out] = support.values[0] as number;
  counts[out++] = support.counts[0] as number;
  let before = support.counts[0] as number;
  let weight = 0;
  let weightedSum = 0;
  let limit = inverse(scale(before / total) + 1);
  for (let i = 1; i < n - 1; i++) {
    const c = support.counts[i] as number;
    const v = support.values[i] as number;
    if (weight > 0 && (before + weight + c) / total > limit) {
      values[out] = weightedSum / weight;
      counts[out++] = weight;
      before += weight;
      weight = 0;
      weightedSum = 0;
      limit = inverse(scale(before / total) + 1);
    }
    weight += c;
    weightedSum += v * c;
  }
  if (weight > 0) {
    values[out] = weightedSum / weight;
    counts[out++] = weight;
  }
  values[out] = support.values[n - 1] as number;
  counts[out++] = support.counts[n - 1] as number;
  return { values: values.slice(0, out), counts: counts.slice(0, out), total };
}

/** The summary's support in the typed form the tests take. */
export function supportOfSummary(summary: NumericSummary): Support {
  return {
    values: Float64Array.from(summary.support.values),
    counts: Float64Array.from(summary.support.counts),
    total: summary.count,
  };
}
