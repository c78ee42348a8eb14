import { ModelportError } from "../../core/errors.js";
import type { DatasetHeader } from "./canonical.js";
import { isImageCell, valueKey } from "./cells.js";
import type { Cell, ColumnSchema, ColumnType, DatasetSchema, DataTable } from "./types.js";

/**
 * Schema inference. Declared types win; otherwise:
 * - arrays of numbers → image (shape declared, or √length × √length when length is a square);
 * - all numbers → numeric, except a label column of at most 50 distinct integers → categorical
 *   (digit labels 0–9 are classes, house prices are not);
 * - strings → categorical when few distinct short values (≤ 50 distinct, or ≤ 20% of the rows,
 *   and a mean length ≤ 50 characters), text otherwise; a string label is always categorical.
 * The label column's type decides the task: categorical → classification, numeric → regression.
 */

const maxStoredCategories = 10_000;

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalid(message: string, param?: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, param === undefined ? {} : { param });
}

interface ColumnScan {
  count: number;
  numbers: number;
  strings: number;
  arrays: number;
  integers: number;
  distinct: Map<string, string | number>;
  totalLength: number;
  min: number;
  max: number;
  sum: number;
  arrayLength: number | undefined;
  pixelMin: number;
  pixelMax: number;
}

function scanColumn(rows: readonly Cell[][], j: number, column: string): ColumnScan {
  const scan: ColumnScan = {
    count: 0,
    numbers: 0,
    strings: 0,
    arrays: 0,
    integers: 0,
    distinct: new Map(),
    totalLength: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    sum: 0,
    arrayLength: undefined,
    pixelMin: Number.POSITIVE_INFINITY,
    pixelMax: Number.NEGATIVE_INFINITY,
  };
  for (const [i, row] of rows.entries()) {
    const cell = row[j];
    if (cell === null || cell === undefined) continue;
    scan.count++;
    if (typeof cell === "number") {
      scan.numbers++;
      if (Number.isInteger(cell)) scan.integers++;
      if (cell < scan.min) scan.min = cell;
      if (cell > scan.max) scan.max = cell;
      scan.sum += cell;
      if (scan.distinct.size <= maxStoredCategories) scan.distinct.set(valueKey(cell), cell);
    } else if (typeof cell === "string") {
      scan.strings++;
      scan.totalLength += cell.length;
      if (scan.distinct.size <= maxStoredCategories) scan.distinct.set(valueKey(cell), cell);
    } else if (isImageCell(cell)) {
      scan.arrays++;
      if (scan.arrayLength === undefined) scan.arrayLength = cell.length;
      else if (scan.arrayLength !== cell.length) {
        throw invalid(
          `row ${i + 1}, column '${column}': an image of ${cell.length} values where earlier ones have ${scan.arrayLength}`,
        );
      }
      for (const value of cell) {
        if (value < scan.pixelMin) scan.pixelMin = value;
        if (value > scan.pixelMax) scan.pixelMax = value;
      }
    }
  }
  return scan;
}

function inferType(scan: ColumnScan, isLabel: boolean, column: string): ColumnType {
  if (scan.arrays > 0) {
    if (scan.arrays !== scan.count) throw invalid(`column '${column}' mixes images with other values`);
    return "image";
  }
  if (scan.count === 0) return isLabel ? "categorical" : "numeric";
  if (scan.numbers === scan.count) {
    const fewIntegers = scan.integers === scan.count && scan.distinct.size <= 50;
    return isLabel && fewIntegers ? "categorical" : "numeric";
  }
  if (isLabel) {
    if (scan.strings !== scan.count) throw invalid(`the label column '${column}' mixes numbers and strings`, "label");
    return "categorical";
  }
  const distinct = scan.distinct.size;
  const meanLength = scan.strings === 0 ? 0 : scan.totalLength / scan.strings;
  const few = distinct <= 50 || distinct <= 0.2 * scan.count;
  return few && meanLength <= 50 ? "categorical" : "text";
}

function imageShape(length: number, declared: number[] | undefined, column: string): number[] {
  if (declared !== undefined) {
    const size = declared.reduce((product, n) => product * n, 1);
    if (size !== length) {
      throw invalid(
        `column '${column}' has images of ${length} values but its shape [${declared}] holds ${size}`,
        "shapes",
      );
    }
    return [...declared];
  }
  const side = Math.round(Math.sqrt(length));
  if (side * side !== length) {
    throw invalid(`column '${column}' has images of ${length} values, not a square: declare its shape`, "shapes");
  }
  return [side, side];
}

export function inferSchema(table: DataTable, declared: DatasetHeader["declared"]): DatasetSchema {
  const columns: ColumnSchema[] = table.columns.map((name, j) => {
    const isLabel = declared.label === name;
    const scan = scanColumn(table.rows, j, name);
    const type = declared.types?.[name] ?? inferType(scan, isLabel, name);
    const schema: ColumnSchema = { name, type, role: isLabel ? "label" : "feature", count: scan.count };

    if (type === "image") {
      if (scan.arrays !== scan.count)
        throw invalid(`column '${name}' is declared image but holds other values`, "types");
      schema.shape = imageShape(scan.arrayLength ?? 0, declared.shapes?.[name], name);
      const range = declared.ranges?.[name];
      schema.pixelRange = range ?? (scan.count === 0 || (scan.pixelMin >= 0 && scan.pixelMax <= 1) ? [0, 1] : [0, 255]);
      if (isLabel) throw invalid(`the label column '${name}' holds images`, "label");
      return schema;
    }
    if (scan.arrays > 0) throw invalid(`column '${name}' holds images but is declared ${type}`, "types");
    schema.distinct = scan.distinct.size;
    if (type === "numeric") {
      if (scan.numbers !== scan.count) throw invalid(`column '${name}' is declared numeric but holds strings`, "types");
      if (scan.count > 0) {
        schema.min = scan.min;
        schema.max = scan.max;
        schema.mean = scan.sum / scan.count;
      }
    } else if (type === "categorical") {
      if (isLabel && scan.numbers > 0 && scan.strings > 0) {
        throw invalid(`the label column '${name}' mixes numbers and strings`, "label");
      }
      if (scan.distinct.size <= maxStoredCategories)
        schema.categories = [...scan.distinct.values()].sort(compareValues);
    } else if (type === "text") {
      if (isLabel) throw invalid(`the label column '${name}' cannot be free text; declare it categorical`, "label");
    }
    return schema;
  });

  const labelColumn = columns.find((column) => column.role === "label");
  let task: DatasetSchema["task"] = null;
  if (labelColumn !== undefined) task = labelColumn.type === "numeric" ? "regression" : "classification";
  return { columns, label: labelColumn?.name ?? null, task };
}
