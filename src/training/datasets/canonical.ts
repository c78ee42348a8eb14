import { createHash } from "node:crypto";
import { ModelportError } from "../../core/errors.js";
import { isImageCell } from "./cells.js";
import type { Cell, ColumnType, DataTable, DeclaredSchema } from "./types.js";

/**
 * The canonical serialisation that a version's sha256 is taken over, and the file format of
 * `data.jsonl`: line 1 is the header `{"columns":[...],"declared":{...},"format":"modelport-dataset/1"}`
 * (object keys sorted at every level), then one JSON array per row, cells in column order
 * (numbers in JavaScript's shortest round-trip form, null for missing, images as flat number
 * arrays), each line ending in "\n". Identical data with identical declarations (label, types,
 * ranges, shapes) therefore always yields the same bytes and the same version.
 */

export const datasetFormat = "modelport-dataset/1";

export interface DatasetHeader {
  format: typeof datasetFormat;
  columns: string[];
  /** The resolved declarations: `label` is always present (a column name or null). */
  declared: DeclaredSchema & { label: string | null };
}

export interface CanonicalDataset {
  header: DatasetHeader;
  /** Row lines without their newline, in row order (kept for duplicate detection). */
  lines: string[];
  /** The exact bytes of data.jsonl, in chunks. */
  chunks: Buffer[];
  sha256: string;
  byteSize: number;
}

/** JSON with object keys sorted recursively; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const labelNames = ["label", "target", "class", "y"];
const columnTypes: readonly ColumnType[] = ["numeric", "categorical", "text", "image"];

function invalid(message: string, param?: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, param === undefined ? {} : { param });
}

function checkColumnKeys(record: Record<string, unknown> | undefined, columns: Set<string>, what: string): void {
  for (const key of Object.keys(record ?? {})) {
    if (!columns.has(key)) throw invalid(`${what} names '${key}', which is not a column`, what);
  }
}

/** Validates declarations against the columns and resolves the label (explicit, or by name). */
export function resolveDeclared(columns: readonly string[], declared: DeclaredSchema): DatasetHeader["declared"] {
  const names = new Set(columns);
  checkColumnKeys(declared.types, names, "types");
  checkColumnKeys(declared.ranges, names, "ranges");
  checkColumnKeys(declared.shapes, names, "shapes");
  for (const [column, type] of Object.entries(declared.types ?? {})) {
    if (!columnTypes.includes(type)) throw invalid(`types.${column} must be one of ${columnTypes.join(", ")}`, "types");
  }
  for (const [column, range] of Object.entries(declared.ranges ?? {})) {
    if (!Array.isArray(range) || range.length !== 2 || !(range[0] <= range[1])) {
      throw invalid(`ranges.${column} must be [min, max] with min <= max`, "ranges");
    }
  }
  for (const [column, shape] of Object.entries(declared.shapes ?? {})) {
    if (
      !Array.isArray(shape) ||
      shape.length < 1 ||
      shape.length > 3 ||
      !shape.every((n) => Number.isInteger(n) && n > 0)
    ) {
      throw invalid(`shapes.${column} must be 1 to 3 positive integers, e.g. [28, 28]`, "shapes");
    }
  }
  let label: string | null;
  if (declared.label === undefined) {
    label = null;
    for (const candidate of labelNames) {
      const found = columns.find((column) => column.toLowerCase() === candidate);
      if (found !== undefined) {
        label = found;
        break;
      }
    }
  } else {
    label = declared.label;
    if (label !== null && !names.has(label)) throw invalid(`the label column '${label}' does not exist`, "label");
  }
  const resolved: DatasetHeader["declared"] = { label };
  if (declared.types !== undefined && Object.keys(declared.types).length > 0) resolved.types = { ...declared.types };
  if (declared.ranges !== undefined && Object.keys(declared.ranges).length > 0)
    resolved.ranges = { ...declared.ranges };
  if (declared.shapes !== undefined && Object.keys(declared.shapes).length > 0)
    resolved.shapes = { ...declared.shapes };
  return resolved;
}

function checkCell(cell: Cell, row: number, column: string): void {
  if (cell === null || typeof cell === "string") return;
  if (typeof cell === "number") {
    if (!Number.isFinite(cell)) throw invalid(`row ${row}, column '${column}': ${cell} is not a finite number`);
    return;
  }
  if (isImageCell(cell)) {
    for (const value of cell) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw invalid(`row ${row}, column '${column}': image pixels must be finite numbers`);
      }
    }
    return;
  }
  throw invalid(`row ${row}, column '${column}': unsupported cell ${String(cell)}`);
}

export function canonicalize(table: DataTable, declared: DeclaredSchema): CanonicalDataset {
  const { columns, rows } = table;
  if (columns.length === 0) throw invalid("the dataset has no columns");
  if (rows.length === 0) throw invalid("the dataset has no rows");
  const seen = new Set<string>();
  for (const column of columns) {
    if (typeof column !== "string" || column.trim() === "") throw invalid("column names must be non-empty");
    if (seen.has(column)) throw invalid(`column '${column}' appears twice`);
    seen.add(column);
  }
  const header: DatasetHeader = {
    format: datasetFormat,
    columns: [...columns],
    declared: resolveDeclared(columns, declared),
  };

  const headerLine = canonicalJson(header);
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  let byteSize = 0;
  const push = (text: string) => {
    const chunk = Buffer.from(text, "utf8");
    hash.update(chunk);
    chunks.push(chunk);
    byteSize += chunk.length;
  };
  push(`${headerLine}\n`);

  const lines = new Array<string>(rows.length);
  let pending: string[] = [];
  let pendingLength = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Cell[];
    if (row.length !== columns.length) {
      throw invalid(`row ${i + 1} has ${row.length} cells but there are ${columns.length} columns`);
    }
    for (let j = 0; j < row.length; j++) checkCell(row[j] as Cell, i + 1, columns[j] as string);
    const line = JSON.stringify(row);
    lines[i] = line;
    pending.push(line);
    pendingLength += line.length;
    // Hash and keep ~1 MB chunks: one update per row would be several times slower.
    if (pendingLength > 1 << 20) {
      push(`${pending.join("\n")}\n`);
      pending = [];
      pendingLength = 0;
    }
  }
  if (pending.length > 0) push(`${pending.join("\n")}\n`);
  return { header, lines, chunks, sha256: hash.digest("hex"), byteSize };
}

/** Reads data.jsonl bytes back into a table, checking the header. */
export function parseCanonical(text: string): { header: DatasetHeader; table: DataTable } {
  const firstBreak = text.indexOf("\n");
  if (firstBreak < 0) throw new ModelportError("MP_STORAGE_ERROR", "the dataset file has no header line");
  const header = JSON.parse(text.slice(0, firstBreak)) as DatasetHeader;
  if (header.format !== datasetFormat) {
    throw new ModelportError("MP_STORAGE_ERROR", `unknown dataset file format '${String(header.format)}'`);
  }
  const rows: Cell[][] = [];
  let start = firstBreak + 1;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (end > start) rows.push(JSON.parse(text.slice(start, end)) as Cell[]);
    start = end + 1;
  }
  return { header, table: { columns: header.columns, rows } };
}
