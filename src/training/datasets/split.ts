import { ModelportError } from "../../core/errors.js";
import { valueKey } from "./cells.js";
import { createSeededRandom } from "./seeded-random.js";

export interface SplitFractions {
  train: number;
  validation?: number;
  test: number;
}

export interface DatasetSplit {
  /** Row indices, in a seeded shuffled order. */
  train: number[];
  validation: number[];
  test: number[];
}

export interface SplitOptions extends SplitFractions {
  seed: number | string;
  /**
   * One stratum per row (the label for classification). Each stratum's rows are divided in the
   * split fractions: every split holds ⌊n_c·f⌋ or ⌈n_c·f⌉ rows of class c. Omit for a plain
   * shuffled split (regression, unlabelled data); missing values form their own stratum.
   */
  strata?: ReadonlyArray<string | number | null | undefined>;
}

const splitNames = ["train", "validation", "test"] as const;

function checkFractions(fractions: SplitFractions): number[] {
  const values = [fractions.train, fractions.validation ?? 0, fractions.test];
  for (const [i, value] of values.entries()) {
    if (!(value >= 0 && value <= 1)) {
      throw new ModelportError("MP_INVALID_REQUEST", `the ${splitNames[i]} fraction must be in [0, 1]`, {
        param: splitNames[i],
      });
    }
  }
  const sum = values.reduce((total, value) => total + value, 0);
  if (Math.abs(sum - 1) > 1e-9) {
    throw new ModelportError("MP_INVALID_REQUEST", `split fractions must add up to 1, got ${sum}`, { param: "train" });
  }
  if (fractions.train <= 0)
    throw new ModelportError("MP_INVALID_REQUEST", "the train fraction must be > 0", { param: "train" });
  return values;
}

/** Largest-remainder apportionment of `total` items in `fractions`; ties go to the earlier split. */
function apportion(total: number, fractions: readonly number[]): number[] {
  const exact = fractions.map((fraction) => total * fraction);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((sum, count) => sum + count, 0);
  const order = exact
    .map((value, i) => ({ i, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of order) {
    if (left === 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  return counts;
}

/**
 * Seeded, stratified train/validation/test split. The split's totals follow the fractions
 * (largest remainder over all rows); each class contributes ⌊n_c·f⌋ or ⌈n_c·f⌉ rows to each
 * split, and the classes' rounding is arranged so the totals are met where that is possible.
 * The same rows, strata, fractions and seed always give the same split.
 */
export function splitDataset(rowCount: number, options: SplitOptions): DatasetSplit {
  if (!Number.isInteger(rowCount) || rowCount < 1) {
    throw new ModelportError("MP_INVALID_REQUEST", "cannot split an empty dataset");
  }
  const fractions = checkFractions(options);
  if (options.strata !== undefined && options.strata.length !== rowCount) {
    throw new ModelportError("MP_INVALID_REQUEST", `strata has ${options.strata.length} values for ${rowCount} rows`, {
      param: "strata",
    });
  }
  const random = createSeededRandom(options.seed);

  // Strata in first-appearance order (deterministic), each shuffled with the seeded generator.
  const groups = new Map<string, number[]>();
  for (let i = 0; i < rowCount; i++) {
    const value = options.strata?.[i];
    const key =
      options.strata === undefined ? "all" : value === null || value === undefined ? "missing" : valueKey(value);
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(i);
  }
  const strata = [...groups.values()].map((group) => random.shuffle(group));

  // Floors per (stratum, split), then hand out each stratum's leftover rows, one per split at most,
  // to the splits that are furthest below their total: this keeps both the per-class ±1 and the totals.
  const totals = apportion(rowCount, fractions);
  const counts = strata.map((group) => fractions.map((fraction) => Math.floor(group.length * fraction)));
  const deficit = totals.map((total, s) => total - counts.reduce((sum, row) => sum + (row[s] as number), 0));
  const leftovers = strata.map((group, c) => group.length - (counts[c] as number[]).reduce((sum, n) => sum + n, 0));
  // Strata with the most leftovers choose first: they need the most distinct splits.
  const order = strata.map((_, c) => c).sort((a, b) => (leftovers[b] as number) - (leftovers[a] as number) || a - b);
  for (const c of order) {
    const group = strata[c] as number[];
    const remainders = fractions.map((fraction) => group.length * fraction - Math.floor(group.length * fraction));
    const choices = fractions
      .map((_, s) => s)
      .filter((s) => (fractions[s] as number) > 0)
      .sort(
        (a, b) =>
          (deficit[b] as number) - (deficit[a] as number) ||
          (remainders[b] as number) - (remainders[a] as number) ||
          a - b,
      );
    for (const s of choices.slice(0, leftovers[c])) {
      (counts[c] as number[])[s] = ((counts[c] as number[])[s] as number) + 1;
      deficit[s] = (deficit[s] as number) - 1;
    }
  }

  const split: DatasetSplit = { train: [], validation: [], test: [] };
  strata.forEach((group, c) => {
    let offset = 0;
    splitNames.forEach((name, s) => {
      const take = (counts[c] as number[])[s] as number;
      split[name].push(...group.slice(offset, offset + take));
      offset += take;
    });
  });
  // Interleave the classes: stratum-by-stratum order would put all of one class first.
  random.shuffle(split.train);
  random.shuffle(split.validation);
  random.shuffle(split.test);
  return split;
}
