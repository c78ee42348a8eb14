import type { Cell } from "./types.js";

/**
 * Text that means "no value" in a CSV cell: pandas' default `na_values` (exact case, after
 * trimming), so a file reads the same here as in `pandas.read_csv`.
 */
const missingMarkers = new Set([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
]);

export function isMissingText(text: string): boolean {
  return missingMarkers.has(text.trim());
}

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// "02139" is a code, not the number 2139: a leading zero before another digit keeps a column text.
const leadingZeroPattern = /^[+-]?0\d/;

export function isMissing(cell: Cell | undefined): cell is null | undefined {
  return cell === null || cell === undefined;
}

export function isImageCell(cell: Cell | undefined): cell is readonly number[] {
  return Array.isArray(cell);
}

/**
 * Turns CSV text cells into typed cells, column by column: missing markers become null, and a
 * column whose every other cell is a plain decimal number (no leading zeros) becomes numeric.
 */
export function typeTextColumns(rows: string[][], columnCount: number): Cell[][] {
  const numeric: boolean[] = [];
  for (let j = 0; j < columnCount; j++) {
    let sawValue = false;
    let allNumbers = true;
    for (const row of rows) {
      const text = (row[j] ?? "").trim();
      if (missingMarkers.has(text)) continue;
      sawValue = true;
      if (!numberPattern.test(text) || leadingZeroPattern.test(text)) {
        allNumbers = false;
        break;
      }
    }
    numeric.push(sawValue && allNumbers);
  }
  return rows.map((row) =>
    row.map((text, j) => {
      if (isMissingText(text)) return null;
      return numeric[j] === true ? Number(text.trim()) : text;
    }),
  );
}

/** A stable identity for a categorical value (keeps 1 and "1" apart). */
export function valueKey(cell: string | number): string {
  return typeof cell === "number" ? `n:${cell}` : `s:${cell}`;
}

/** numpy's default (linear) quantile of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}
