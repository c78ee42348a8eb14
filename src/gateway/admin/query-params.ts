import { ModelportError } from "../../core/errors.js";

/** Query-string readers for admin routes: a bad value is a 400 naming the parameter; empty = absent. */

export function optionalInteger(query: Record<string, string>, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value))
    throw new ModelportError("MP_INVALID_REQUEST", `${name} must be an integer`, { param: name });
  return Number(value);
}

export function optionalTime(query: Record<string, string>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed))
    throw new ModelportError("MP_INVALID_REQUEST", `${name} must be an ISO-8601 time`, { param: name });
  return new Date(parsed).toISOString();
}

export function requiredString(query: Record<string, string>, name: string): string {
  const value = query[name];
  if (value === undefined || value === "")
    throw new ModelportError("MP_INVALID_REQUEST", `the query parameter ${name} is required`, { param: name });
  return value;
}
