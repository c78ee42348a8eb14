/**
 * Category counts for a categorical column, bounded: after `maxCategories` distinct values, new
 * ones are counted under OTHER_CATEGORY and the summary is marked inexact.
 */
export const OTHER_CATEGORY = "<other>";
export const DEFAULT_MAX_CATEGORIES = 10_000;

export interface CategoricalSummary {
  kind: "categorical";
  count: number;
  missing: number;
  /** Category → count. */
  counts: Record<string, number>;
  /** False when categories beyond the limit were folded into OTHER_CATEGORY. */
  exact: boolean;
}

export interface CategoricalCounter {
  add(value: string, times?: number): void;
  addMissing(count?: number): void;
  /** Dictionary-encoded batch: `codes[i]` indexes `dictionary` (negative: missing). */
  addCodes(codes: ArrayLike<number>, dictionary: readonly string[]): void;
  finish(): CategoricalSummary;
}

export function createCategoricalCounter(
  maxCategories = DEFAULT_MAX_CATEGORIES,
  /** When given, values outside it are counted as OTHER_CATEGORY (a text vocabulary). */
  known?: ReadonlySet<string>,
): CategoricalCounter {
  const counts = new Map<string, number>();
  let missing = 0;
  let count = 0;
  let exact = true;
  const add = (value: string, times = 1) => {
    let key = value;
    if (known && !known.has(key)) key = OTHER_CATEGORY;
    else if (!counts.has(key) && counts.size >= maxCategories) {
      key = OTHER_CATEGORY;
      exact = false;
    }
    counts.set(key, (counts.get(key) ?? 0) + times);
    count += times;
  };
  return {
    add: (value, times = 1) => add(value, times),
    addMissing(n = 1) {
      missing += n;
    },
    addCodes(codes, dictionary) {
      const perCode = new Float64Array(dictionary.length);
      for (let i = 0; i < codes.length; i++) {
        const code = codes[i] as number;
        if (code < 0) missing++;
        else perCode[code] = (perCode[code] as number) + 1;
      }
      for (let code = 0; code < dictionary.length; code++) {
        const times = perCode[code] as number;
        if (times > 0) add(dictionary[code] as string, times);
      }
    },
    finish: () => ({ kind: "categorical", count, missing, counts: Object.fromEntries(counts), exact }),
  };
}
