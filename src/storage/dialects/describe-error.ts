/**
 * A readable reason from a driver error. Node's connect errors can be AggregateErrors with an
 * empty message (one attempt per resolved address), so fall back to the inner errors and code.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    const inner = error.errors.map((each: unknown) => (each instanceof Error ? each.message : String(each)));
    if (inner.length > 0) return [...new Set(inner)].join("; ");
  }
  if (error instanceof Error) {
    if (error.message !== "") return error.message;
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : error.name;
  }
  return String(error);
}
