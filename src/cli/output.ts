import { ModelportError } from "../core/errors.js";

/** Thrown for a wrong command line (exit code 2). */
export class UsageError extends Error {}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as aligned columns. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cell = (value: unknown) => (value === null || value === undefined ? "-" : String(value));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((column) => cell(row[column])))}\n`);
}

/** One line on stderr with the error code; returns the exit code (2 usage, 1 anything else). */
export function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`modelport: usage error: ${error.message}\n`);
    return 2;
  }
  if (error instanceof ModelportError) {
    process.stderr.write(`modelport: ${error.code}: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`modelport: MP_INTERNAL: ${(error as Error)?.message ?? String(error)}\n`);
  return 1;
}
