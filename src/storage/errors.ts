import { ModelportError } from "../core/errors.js";

/**
 * One reading of constraint violations for both dialects, so repositories can turn them into
 * domain errors ("tenant name 'acme' is taken") without knowing which database they talk to.
 * better-sqlite3 reports `SQLITE_CONSTRAINT_*` codes and names `table.column` in the message;
 * pg reports SQLSTATE codes (23505 unique, 23503 foreign key) and names columns in `detail`.
 */
export interface ConstraintViolation {
  kind: "unique" | "foreign-key";
  /** Column names involved, when the driver says (SQLite does not for foreign keys). */
  columns: string[];
}

interface DriverError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function asDriverError(error: unknown): DriverError | undefined {
  return typeof error === "object" && error !== null ? (error as DriverError) : undefined;
}

export function constraintViolation(error: unknown): ConstraintViolation | undefined {
  const driverError = asDriverError(error);
  if (driverError === undefined) return undefined;
  const { code } = driverError;
  const message = typeof driverError.message === "string" ? driverError.message : "";
  const detail = typeof driverError.detail === "string" ? driverError.detail : "";

  if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    // "UNIQUE constraint failed: api_keys.hash" or "... failed: t.a, t.b"
    const list = message.split(" failed: ")[1] ?? "";
    const columns = list
      .split(",")
      .map((part) => part.trim().split(".").pop() ?? "")
      .filter((column) => column !== "");
    return { kind: "unique", columns };
  }
  if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") return { kind: "foreign-key", columns: [] };

  if (code === "23505" || code === "23503") {
    // "Key (name)=(acme) already exists." / "Key (tenant_id)=(x) is not present in table ..."
    const match = /^Key \(([^)]*)\)=/.exec(detail);
    const columns = (match?.[1] ?? "")
      .split(",")
      .map((column) => column.trim().replace(/^"|"$/g, ""))
      .filter((column) => column !== "");
    return { kind: code === "23505" ? "unique" : "foreign-key", columns };
  }
  return undefined;
}

/**
 * Runs one database operation, turning driver errors into ModelportErrors: `translate` may map a
 * constraint violation to a domain error; everything else becomes MP_STORAGE_ERROR naming the
 * operation (the driver error stays as `cause` for logs).
 */
export async function attempt<T>(
  operation: string,
  run: () => Promise<T>,
  translate?: (violation: ConstraintViolation) => ModelportError | undefined,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ModelportError) throw error;
    const violation = constraintViolation(error);
    const translated = violation === undefined ? undefined : translate?.(violation);
    if (translated !== undefined) throw translated;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelportError("MP_STORAGE_ERROR", `${operation} failed: ${reason}`, { cause: error });
  }
}
