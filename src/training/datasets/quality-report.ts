import { isImageCell, quantileSorted, valueKey } from "./cells.js";
import { policyWarnings } from "./pii-policy.js";
import type { PiiScanner } from "./pii-scanner.js";
import type {
  Cell,
  ColumnQuality,
  DatasetSchema,
  DataTable,
  OutOfRange,
  PiiPolicyApplied,
  QualityReport,
} from "./types.js";

/**
 * The quality report of a dataset version:
 * - missing values per column, constant columns (at most one distinct non-missing value);
 * - duplicate rows: rows whose canonical serialisation equals an earlier row's;
 * - class balance of the label (classification);
 * - out-of-range values: numeric cells outside the declared range, or else outside Tukey's
 *   fences [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (numpy's linear quantiles); image pixels outside the
 *   declared range or else the column's pixel scale ([0, 1] or [0, 255]);
 * - PII findings per column and type, when a PiiScanner is given (string columns only), or, when
 *   a PII policy was applied on import, what it found and did.
 */

export interface QualityOptions {
  /** Canonical row lines (from canonicalize), reused to find duplicates without re-serialising. */
  lines?: readonly string[];
  ranges?: Record<string, [number, number]>;
  piiScanner?: PiiScanner;
  /** Scan at most this many non-missing cells per column (default: all). */
  piiMaxCellsPerColumn?: number;
  /**
   * A PII policy applied on import: its findings (in the source data) are the PII counts, so the
   * stored, already-protected cells are not scanned again; the report says what was applied.
   */
  piiPolicy?: { report: PiiPolicyApplied; counts: Record<string, Record<string, number>> };
}

function numericOutOfRange(values: number[], declared: [number, number] | undefined): OutOfRange | undefined {
  if (values.length === 0) return undefined;
  let lower: number;
  let upper: number;
  let rule: OutOfRange["rule"];
  if (declared !== undefined) {
    [lower, upper] = declared;
    rule = "declared";
  } else {
    const sorted = [...values].sort((a, b) => a - b);
    const q1 = quantileSorted(sorted, 0.25);
    const q3 = quantileSorted(sorted, 0.75);
    lower = q1 - 1.5 * (q3 - q1);
    upper = q3 + 1.5 * (q3 - q1);
    rule = "iqr";
  }
  let count = 0;
  for (const value of values) if (value < lower || value > upper) count++;
  return { rule, lower, upper, count };
}

function imageOutOfRange(rows: readonly Cell[][], j: number, range: [number, number], declared: boolean): OutOfRange {
  const [lower, upper] = range;
  let count = 0;
  let badRows = 0;
  for (const row of rows) {
    const cell = row[j];
    if (!isImageCell(cell)) continue;
    let bad = 0;
    for (const value of cell) if (value < lower || value > upper) bad++;
    count += bad;
    if (bad > 0) badRows++;
  }
  return { rule: declared ? "declared" : "pixel", lower, upper, count, rows: badRows };
}

export async function qualityReport(
  table: DataTable,
  schema: DatasetSchema,
  options: QualityOptions = {},
): Promise<QualityReport> {
  const { rows } = table;
  const rowCount = rows.length;
  const warnings: string[] = [];

  const lines = options.lines ?? rows.map((row) => JSON.stringify(row));
  const unique = new Set<string>();
  let duplicateRows = 0;
  for (const line of lines) {
    if (unique.has(line)) duplicateRows++;
    else unique.add(line);
  }
  if (duplicateRows > 0) warnings.push(`${duplicateRows} duplicate rows`);

  const columns: Record<string, ColumnQuality> = {};
  const constantColumns: string[] = [];
  for (const [j, column] of schema.columns.entries()) {
    const missing = rowCount - column.count;
    const quality: ColumnQuality = {
      missing,
      missingFraction: rowCount === 0 ? 0 : missing / rowCount,
      constant: false,
    };
    if (missing > 0)
      warnings.push(`${column.name}: ${missing} missing (${(quality.missingFraction * 100).toFixed(1)}%)`);

    if (column.type === "image") {
      const range = options.ranges?.[column.name] ?? column.pixelRange ?? [0, 255];
      quality.outOfRange = imageOutOfRange(rows, j, range, options.ranges?.[column.name] !== undefined);
      // Constant: every image equals the first one (stops at the first difference).
      const first = rows.find((row) => isImageCell(row[j]))?.[j] as readonly number[] | undefined;
      quality.constant =
        first !== undefined &&
        rows.every((row) => {
          const cell = row[j];
          return !isImageCell(cell) || (cell.length === first.length && cell.every((value, k) => value === first[k]));
        });
    } else {
      quality.constant = (column.distinct ?? 0) <= 1;
      if (column.type === "numeric") {
        const values: number[] = [];
        for (const row of rows) {
          const cell = row[j];
          if (typeof cell === "number") values.push(cell);
        }
        const outOfRange = numericOutOfRange(values, options.ranges?.[column.name]);
        if (outOfRange !== undefined) quality.outOfRange = outOfRange;
      }
    }
    if (quality.outOfRange !== undefined && quality.outOfRange.count > 0) {
      const { rule, count, lower, upper } = quality.outOfRange;
      const what = column.type === "image" ? "pixels" : "values";
      warnings.push(`${column.name}: ${count} ${what} outside [${lower}, ${upper}] (${rule})`);
    }
    if (quality.constant) {
      constantColumns.push(column.name);
      warnings.push(`${column.name}: constant`);
    }

    const holdsText = column.type === "text" || column.type === "categorical";
    const policyCounts = options.piiPolicy?.counts[column.name];
    if (options.piiPolicy !== undefined && (policyCounts !== undefined || holdsText)) {
      quality.pii = { ...policyCounts };
      const total = Object.values(quality.pii).reduce((sum, count) => sum + count, 0);
      if (total > 0) warnings.push(`${column.name}: ${total} PII findings`);
    } else if (options.piiScanner !== undefined && holdsText) {
      quality.pii = await scanColumn(rows, j, options.piiScanner, options.piiMaxCellsPerColumn);
      const total = Object.values(quality.pii).reduce((sum, count) => sum + count, 0);
      if (total > 0) warnings.push(`${column.name}: ${total} PII findings`);
    }
    columns[column.name] = quality;
  }

  let classBalance: QualityReport["classBalance"] = null;
  const labelIndex = schema.columns.findIndex((column) => column.role === "label");
  const labelColumn = schema.columns[labelIndex];
  if (labelColumn !== undefined && schema.task === "classification") {
    const counts = new Map<string, { value: string | number; count: number }>();
    for (const row of rows) {
      const cell = row[labelIndex];
      if (typeof cell !== "string" && typeof cell !== "number") continue;
      const key = valueKey(cell);
      const entry = counts.get(key);
      if (entry === undefined) counts.set(key, { value: cell, count: 1 });
      else entry.count++;
    }
    const labelled = [...counts.values()].reduce((sum, entry) => sum + entry.count, 0);
    const classes = [...counts.values()]
      .sort((a, b) =>
        typeof a.value === "number" && typeof b.value === "number"
          ? a.value - b.value
          : String(a.value) < String(b.value)
            ? -1
            : 1,
      )
      .map((entry) => ({ ...entry, fraction: labelled === 0 ? 0 : entry.count / labelled }));
    const sizes = classes.map((entry) => entry.count);
    const imbalanceRatio = sizes.length === 0 ? 0 : Math.max(...sizes) / Math.min(...sizes);
    classBalance = { label: labelColumn.name, classes, imbalanceRatio };
    if (classes.length === 1) warnings.push(`${labelColumn.name}: a single class`);
    else if (imbalanceRatio > 10)
      warnings.push(`${labelColumn.name}: classes are imbalanced (${imbalanceRatio.toFixed(1)}:1)`);
  }

  return {
    rowCount,
    duplicateRows,
    constantColumns,
    columns,
    classBalance,
    piiScanned: options.piiScanner !== undefined || options.piiPolicy !== undefined,
    ...(options.piiPolicy === undefined ? {} : { piiPolicy: options.piiPolicy.report }),
    warnings: options.piiPolicy === undefined ? warnings : [...warnings, ...policyWarnings(options.piiPolicy.report)],
  };
}

async function scanColumn(
  rows: readonly Cell[][],
  j: number,
  scanner: PiiScanner,
  limit: number | undefined,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  // Categorical columns repeat values: scan each distinct string once, count it per occurrence.
  const cache = new Map<string, readonly { type: string }[]>();
  let scanned = 0;
  for (const row of rows) {
    const cell = row[j];
    if (typeof cell !== "string") continue;
    if (limit !== undefined && scanned >= limit) break;
    scanned++;
    let findings = cache.get(cell);
    if (findings === undefined) {
      findings = await scanner.scan(cell);
      cache.set(cell, findings);
    }
    for (const finding of findings) counts[finding.type] = (counts[finding.type] ?? 0) + 1;
  }
  return counts;
}
