/** Observations per category. Numeric columns with few values use the values themselves as keys. */
export type CategoryKey = string | number;
export type Counts = ReadonlyMap<CategoryKey, number>;

export function totalOf(counts: Counts): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

/** The union of both samples' categories, reference first (Evidently's `keys`; order only moves rounding). */
export function unionKeys(reference: Counts, current: Counts): CategoryKey[] {
  const keys = [...reference.keys()];
  for (const key of current.keys()) if (!reference.has(key)) keys.push(key);
  return keys;
}

/** Python's `sorted` for one kind of key: numbers numerically, strings by code unit. */
export function compareKeys(a: CategoryKey, b: CategoryKey): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
