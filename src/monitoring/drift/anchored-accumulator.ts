import type { Support } from "./stats/support.js";

/**
 * A live window's numeric column, binned against the reference's support points r_0 < … < r_k−1
 * (the anchors): one cell per anchor ("equal to r_i") and one per gap (below r_0, between r_i and
 * r_i+1, above r_k−1), each with a count and a sum. Adding a value is a grid lookup and a short scan (O(1) for
 * smooth data, never worse than O(k)), and memory is fixed: ~5 numbers per cell.
 *
 * Why this keeps the tests honest:
 * - While the window has met at most EXTRA_LIMIT values that are not anchors, it remembers those
 *   values exactly, so its sample is the exact current sample.
 * - Beyond that, each gap cell becomes its minimum, its maximum and the rest at their mean (exact
 *   for cells of ≤ 3 values). The KS statistic stays exact when the reference support is exact
 *   (both ECDFs are exact at every anchor, and within a gap the reference ECDF is flat, so the
 *   largest gap sits at the cell's maximum, which is kept). Wasserstein is exact except in cells
 *   of ≥ 4 values where the two ECDFs cross (elsewhere the integral over a gap depends only on the
 *   cell's count and sum). Sturges bins that split a cell of ≥ 4 values are approximated.
 */
export const EXTRA_LIMIT = 64;

export interface AnchoredSnapshot {
  kind: "numeric";
  count: number;
  missing: number;
  min: number;
  max: number;
  integral: boolean;
  /** 2k+1 cells: even indexes are gaps, odd index 2i+1 is "equal to anchor i". */
  cellCounts: number[];
  cellSums: number[];
  /** Smallest and largest value per cell (0 for empty cells). */
  cellMins: number[];
  cellMaxs: number[];
  /** Non-anchor values with their counts, or null once more than EXTRA_LIMIT were seen. */
  extra: [number, number][] | null;
}

export interface AnchoredAccumulator {
  add(value: number): void;
  addMissing(count?: number): void;
  addMany(values: ArrayLike<number>): void;
  snapshot(): AnchoredSnapshot;
}

export function createAnchoredAccumulator(anchors: Float64Array, restore?: AnchoredSnapshot): AnchoredAccumulator {
  const k = anchors.length;
  // Cells hold count, sum, min and max; "equal to anchor" cells only need their count.
  const cellCounts = new Float64Array(2 * k + 1);
  const cellSums = new Float64Array(2 * k + 1);
  const cellMins = new Float64Array(2 * k + 1).fill(Number.POSITIVE_INFINITY);
  const cellMaxs = new Float64Array(2 * k + 1).fill(Number.NEGATIVE_INFINITY);
  let extra: Map<number, number> | null = new Map();
  let missing = 0;
  let integral = true;
  if (restore) {
    if (restore.cellCounts.length !== 2 * k + 1) throw new RangeError("window snapshot does not fit the reference");
    for (let cell = 0; cell < 2 * k + 1; cell++) {
      const c = restore.cellCounts[cell] ?? 0;
      cellCounts[cell] = c;
      if (c > 0 && cell % 2 === 0) {
        cellSums[cell] = restore.cellSums[cell] ?? 0;
        cellMins[cell] = restore.cellMins[cell] ?? 0;
        cellMaxs[cell] = restore.cellMaxs[cell] ?? 0;
      }
    }
    extra = restore.extra ? new Map(restore.extra) : null;
    ({ missing, integral } = restore);
  }

  // A uniform grid over the anchors' range: grid[b] = how many anchors lie below bucket b's
  // start, so locating a value is one multiply and a short forward scan instead of a binary
  // search (about 4 buckets per anchor).
  const first = k > 0 ? (anchors[0] as number) : 0;
  const last = k > 0 ? (anchors[k - 1] as number) : 0;
  const buckets = k > 1 ? 4 * k : 0;
  const scale = buckets > 0 ? buckets / (last - first) : 0;
  const grid = new Int32Array(buckets + 1);
  for (let b = 0, below = 0; b <= buckets; b++) {
    const start = first + b / scale;
    while (below < k && (anchors[below] as number) < start) below++;
    grid[b] = below;
  }

  // The hot loop: kept in one function with local state so V8 compiles it tight.
  function addMany(values: ArrayLike<number>) {
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as number;
      if (!(value - value === 0)) {
        missing++; // NaN and ±Infinity
        continue;
      }
      if (integral && Math.trunc(value) !== value) integral = false;
      let r: number;
      if (value < first) r = 0;
      else if (value >= last) r = k;
      else {
        r = grid[((value - first) * scale) | 0] as number;
        while (r > 0 && (anchors[r - 1] as number) > value) r--; // rounding at a bucket edge
        while (r < k && (anchors[r] as number) <= value) r++;
      }
      if (r > 0 && anchors[r - 1] === value) {
        cellCounts[2 * r - 1] = (cellCounts[2 * r - 1] as number) + 1;
        continue;
      }
      const cell = 2 * r;
      cellCounts[cell] = (cellCounts[cell] as number) + 1;
      cellSums[cell] = (cellSums[cell] as number) + value;
      if (value < (cellMins[cell] as number)) cellMins[cell] = value;
      if (value > (cellMaxs[cell] as number)) cellMaxs[cell] = value;
      if (extra !== null) {
        const key = value === 0 ? 0 : value;
        extra.set(key, (extra.get(key) ?? 0) + 1);
        if (extra.size > EXTRA_LIMIT) extra = null;
      }
    }
  }

  const one = new Float64Array(1);
  return {
    add(value) {
      one[0] = value;
      addMany(one);
    },
    addMissing(n = 1) {
      missing += n;
    },
    addMany,
    snapshot() {
      let count = 0;
      let min = Number.NaN;
      let max = Number.NaN;
      const sums = new Array<number>(2 * k + 1);
      const mins = new Array<number>(2 * k + 1);
      const maxs = new Array<number>(2 * k + 1);
      for (let cell = 0; cell < 2 * k + 1; cell++) {
        const c = cellCounts[cell] as number;
        count += c;
        if (c === 0) {
          sums[cell] = mins[cell] = maxs[cell] = 0;
          continue;
        }
        const anchor = anchors[(cell - 1) / 2] as number;
        const odd = cell % 2 === 1;
        sums[cell] = odd ? anchor * c : (cellSums[cell] as number);
        mins[cell] = odd ? anchor : (cellMins[cell] as number);
        maxs[cell] = odd ? anchor : (cellMaxs[cell] as number);
        if (Number.isNaN(min)) min = mins[cell] as number;
        max = maxs[cell] as number;
      }
      return {
        kind: "numeric",
        count,
        missing,
        min,
        max,
        integral,
        cellCounts: Array.from(cellCounts),
        cellSums: sums,
        cellMins: mins,
        cellMaxs: maxs,
        extra: extra ? [...extra.entries()] : null,
      };
    },
  };
}

/** The window's sample: exact while `extra` is kept, one point per gap cell after. */
export function supportOfSnapshot(anchors: Float64Array, snapshot: AnchoredSnapshot): Support {
  const points: [number, number][] = [];
  for (let i = 0; i < anchors.length; i++) {
    const c = snapshot.cellCounts[2 * i + 1] ?? 0;
    if (c > 0) points.push([anchors[i] as number, c]);
  }
  if (snapshot.extra) points.push(...snapshot.extra);
  else {
    for (let cell = 0; cell < snapshot.cellCounts.length; cell += 2) {
      const c = snapshot.cellCounts[cell] ?? 0;
      if (c === 0) continue;
      // The smallest and largest value are kept exactly; the others stand at their mean. A cell of
      // up to three values is therefore exact.
      const lo = snapshot.cellMins[cell] ?? 0;
      const hi = snapshot.cellMaxs[cell] ?? 0;
      if (c === 1) points.push([lo, 1]);
      else {
        points.push([lo, 1], [hi, 1]);
        if (c > 2)
          points.push([Math.min(hi, Math.max(lo, ((snapshot.cellSums[cell] ?? 0) - lo - hi) / (c - 2))), c - 2]);
      }
    }
  }
  points.sort((a, b) => a[0] - b[0]);
  const values: number[] = [];
  const counts: number[] = [];
  for (const [value, c] of points) {
    if (values.length > 0 && values[values.length - 1] === value) counts[counts.length - 1] = (counts.at(-1) ?? 0) + c;
    else {
      values.push(value);
      counts.push(c);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total: snapshot.count };
}
