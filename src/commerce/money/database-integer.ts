import { ModelportError } from "../../core/errors.js";

/**
 * A 64-bit integer as a database driver returns it (better-sqlite3: number; pg: string for int8
 * and for SUM(), which is numeric; null for SUM over no rows) as a safe-integer number. Throws
 * rather than round a value past 2^53.
 */
export function integerFromDatabase(value: unknown, field: string): number {
  if (value === null || value === undefined) return 0;
  let parsed: number;
  if (typeof value === "number") parsed = value;
  else if (typeof value === "bigint") parsed = Number(value);
  else if (typeof value === "string" && /^-?\d+$/.test(value)) parsed = Number(value);
  else
    throw new ModelportError(
      "MP_STORAGE_ERROR",
      `${field}: expected an integer from the database, got ${String(value)}`,
    );
  if (!Number.isSafeInteger(parsed)) {
    throw new ModelportError("MP_STORAGE_ERROR", `${field}: ${String(value)} is beyond the safe-integer range`);
  }
  return parsed;
}
