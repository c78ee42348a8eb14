import { readFile } from "node:fs/promises";
import { ModelportError } from "../../core/errors.js";
import type { Cell, DataTable } from "./types.js";

function toCell(value: unknown, line: number, key: string): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return value;
  // Booleans are categories; keeping them as text keeps one cell type per kind of column.
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value) && value.every((item) => typeof item === "number" && Number.isFinite(item))) {
    return value as number[];
  }
  throw new ModelportError(
    "MP_INVALID_REQUEST",
    `line ${line}, field "${key}": expected a string, number, boolean, null or an array of numbers (an image)`,
    { param: key },
  );
}

/**
 * Parses JSON Lines: one JSON object per line. Columns are the union of keys in order of first
 * appearance; a key absent from a line is a missing value.
 */
export function parseJsonl(text: string): DataTable {
  const columns: string[] = [];
  const positions = new Map<string, number>();
  const objects: { line: number; value: Record<string, unknown> }[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ModelportError("MP_INVALID_REQUEST", `line ${index + 1} is not valid JSON`, { cause: error });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ModelportError("MP_INVALID_REQUEST", `line ${index + 1} is not a JSON object`);
    }
    for (const key of Object.keys(value)) {
      if (!positions.has(key)) {
        positions.set(key, columns.length);
        columns.push(key);
      }
    }
    objects.push({ line: index + 1, value: value as Record<string, unknown> });
  }
  if (objects.length === 0) throw new ModelportError("MP_INVALID_REQUEST", "the JSONL input has no records");
  const rows = objects.map(({ line, value }) => columns.map((key) => toCell(value[key], line, key)));
  return { columns, rows };
}

export async function readJsonl(path: string): Promise<DataTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ModelportError("MP_NOT_FOUND", `cannot read the JSONL file ${path}`, { cause: error });
  }
  return parseJsonl(text);
}
