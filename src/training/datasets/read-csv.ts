import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { ModelportError } from "../../core/errors.js";
import { typeTextColumns } from "./cells.js";
import type { DataTable } from "./types.js";

export interface CsvOptions {
  /** Field delimiter (default `,`). */
  delimiter?: string;
}

/**
 * Parses CSV text with a header row (csv-parse: RFC 4180 quoting, a BOM is dropped, blank lines
 * skipped). Numeric columns become numbers; missing markers (pandas' defaults) become null.
 */
export function parseCsv(text: string, options: CsvOptions = {}): DataTable {
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      delimiter: options.delimiter ?? ",",
      skip_empty_lines: true,
      relax_column_count: false,
    }) as string[][];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelportError("MP_INVALID_REQUEST", `the CSV does not parse: ${reason}`, { cause: error });
  }
  const [header, ...rows] = records;
  if (header === undefined) throw new ModelportError("MP_INVALID_REQUEST", "the CSV is empty: it needs a header row");
  const columns = header.map((name) => name.trim());
  return { columns, rows: typeTextColumns(rows, columns.length) };
}

export async function readCsv(path: string, options: CsvOptions = {}): Promise<DataTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ModelportError("MP_NOT_FOUND", `cannot read the CSV file ${path}`, { cause: error });
  }
  return parseCsv(text, options);
}
