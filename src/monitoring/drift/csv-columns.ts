import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { ModelportError } from "../../core/errors.js";
import type { ColumnPair } from "./column-test.js";
import { supportOf } from "./stats/support.js";

/** A CSV file as columns of raw strings (header row first). */
export interface CsvTable {
  path: string;
  header: string[];
  rows: number;
  columns: Map<string, string[]>;
}

/** Tokens pandas reads as missing (`read_csv` na_values), plus the empty string. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set([
  "",
  "NA",
  "N/A",
  "NaN",
  "nan",
  "null",
  "NULL",
  "None",
  "n/a",
  "<NA>",
]);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

export async function readCsvTable(path: string, label: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ModelportError("MP_NOT_FOUND", `${label} file ${path} does not exist`);
    throw new ModelportError("MP_INVALID_REQUEST", `cannot read ${label} file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (error) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `${label} file ${path} is not valid CSV: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const [header, ...rows] = records;
  if (!header || header.length === 0) throw new ModelportError("MP_INVALID_REQUEST", `${label} file ${path} is empty`);
  if (rows.length === 0) throw new ModelportError("MP_INVALID_REQUEST", `${label} file ${path} has no data rows`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name))
      throw new ModelportError("MP_INVALID_REQUEST", `${label} file ${path} repeats column '${name}'`);
    seen.add(name);
  }
  const columns = new Map(header.map((name, index) => [name, rows.map((row) => row[index] ?? "")]));
  return { path, header, rows: rows.length, columns };
}

/**
 * Pairs the columns of a reference and a current table. A column is numeric when every
 * non-missing value in both files is a decimal number, categorical otherwise; missing values are
 * dropped, as Evidently drops NaN. "Integral" mirrors pandas reading the column as int64 (every
 * value an integer literal, none missing), which changes numpy's Sturges bin width.
 */
export function pairCsvColumns(reference: CsvTable, current: CsvTable): ColumnPair[] {
  const missingInCurrent = reference.header.filter((name) => !current.columns.has(name));
  const missingInReference = current.header.filter((name) => !reference.columns.has(name));
  if (missingInCurrent.length > 0 || missingInReference.length > 0) {
    const parts = [];
    if (missingInCurrent.length > 0) parts.push(`missing in ${current.path}: ${missingInCurrent.join(", ")}`);
    if (missingInReference.length > 0) parts.push(`missing in ${reference.path}: ${missingInReference.join(", ")}`);
    throw new ModelportError("MP_INVALID_REQUEST", `the files have different columns (${parts.join("; ")})`);
  }
  return reference.header.map((name) => {
    const referenceValues = reference.columns.get(name) ?? [];
    const currentValues = current.columns.get(name) ?? [];
    const present = (values: string[]) => values.filter((value) => !MISSING_TOKENS.has(value));
    const r = present(referenceValues);
    const c = present(currentValues);
    const numeric = [...r, ...c].every((value) => NUMBER.test(value)) && r.length + c.length > 0;
    if (numeric) {
      const integral = (all: string[], kept: string[]) =>
        all.length === kept.length && kept.every((value) => INTEGER.test(value));
      return {
        name,
        reference: { kind: "numeric", support: supportOf(r.map(Number)), integral: integral(referenceValues, r) },
        current: { kind: "numeric", support: supportOf(c.map(Number)), integral: integral(currentValues, c) },
      } satisfies ColumnPair;
    }
    const counts = (values: string[]) => {
      const map = new Map<string, number>();
      for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
      return map;
    };
    return {
      name,
      reference: { kind: "categorical", counts: counts(r) },
      current: { kind: "categorical", counts: counts(c) },
    } satisfies ColumnPair;
  });
}
