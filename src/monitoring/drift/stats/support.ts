/**
 * A sample as sorted distinct values with counts. Every numeric test works on this form: raw
 * data reduces to it exactly, a reference profile keeps it exactly up to a size limit (and as
 * weighted centroids beyond), and a live window anchored to the reference produces it too.
 */
export interface Support {
  /** Distinct values, strictly increasing. */
  readonly values: Float64Array;
  /** How many observations each value stands for (integers). */
  readonly counts: Float64Array;
  /** Σ counts. */
  readonly total: number;
}

/** Builds the support of raw values; NaN and ±Infinity are dropped, as Evidently drops them. */
export function supportOf(values: ArrayLike<number>): Support {
  const finite = new Float64Array(values.length);
  let length = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (Number.isFinite(value)) finite[length++] = value;
  }
  const sorted = finite.subarray(0, length).sort();
  return runLengthEncode(sorted);
}

/** Collapses an ascending array into distinct values with counts. */
export function runLengthEncode(sorted: Float64Array): Support {
  const values = new Float64Array(sorted.length);
  const counts = new Float64Array(sorted.length);
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) {
    const value = sorted[i] as number;
    if (distinct > 0 && values[distinct - 1] === value) counts[distinct - 1] = (counts[distinct - 1] as number) + 1;
    else {
      values[distinct] = value === 0 ? 0 : value; // folds -0 into 0
      counts[distinct] = 1;
      distinct++;
    }
  }
  return { values: values.slice(0, distinct), counts: counts.slice(0, distinct), total: sorted.length };
}

/** Merges two supports (counts of equal values add up). */
export function mergeSupports(a: Support, b: Support): Support {
  const values = new Float64Array(a.values.length + b.values.length);
  const counts = new Float64Array(values.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.values.length || j < b.values.length) {
    const av = i < a.values.length ? (a.values[i] as number) : Number.POSITIVE_INFINITY;
    const bv = j < b.values.length ? (b.values[j] as number) : Number.POSITIVE_INFINITY;
    if (av < bv) {
      values[k] = av;
      counts[k++] = a.counts[i++] as number;
    } else if (bv < av) {
      values[k] = bv;
      counts[k++] = b.counts[j++] as number;
    } else {
      values[k] = av;
      counts[k++] = (a.counts[i++] as number) + (b.counts[j++] as number);
    }
  }
  return { values: values.slice(0, k), counts: counts.slice(0, k), total: a.total + b.total };
}

/** Population mean and standard deviation (numpy's `np.std`, ddof 0), two-pass. */
export function meanAndStd(support: Support): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < support.values.length; i++) sum += (support.values[i] as number) * (support.counts[i] as number);
  const mean = sum / support.total;
  let squares = 0;
  for (let i = 0; i < support.values.length; i++) {
    const deviation = (support.values[i] as number) - mean;
    squares += deviation * deviation * (support.counts[i] as number);
  }
  return { mean, std: Math.sqrt(squares / support.total) };
}
