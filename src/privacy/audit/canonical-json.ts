/**
 * Canonical JSON in the style of RFC 8785 (JCS): object keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers serialised exactly as ECMAScript's JSON.stringify does (which
 * is what JCS specifies: shortest round-trip numbers, `-0` as `0`, minimal string escaping).
 * Two equal values always give byte-identical text, so a hash over it survives a database
 * round-trip or a re-serialisation by another tool.
 *
 * Stricter than JSON.stringify on purpose: values JSON cannot represent faithfully (NaN,
 * Infinity, undefined inside arrays, bigint, functions, Dates, Maps, class instances) throw
 * instead of silently turning into `null` or `{}`. Object properties that are `undefined` are
 * omitted, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot represent ${value}`);
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (const item of value) {
          if (item === undefined) throw new TypeError("canonical JSON cannot represent undefined in an array");
          items.push(canonicalJson(item));
        }
        return `[${items.join(",")}]`;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null)
        throw new TypeError(`canonical JSON takes plain objects, not ${prototype?.constructor?.name ?? "this object"}`);
      const record = value as Record<string, unknown>;
      // Array.prototype.sort without a comparator compares UTF-16 code units: exactly JCS's order.
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (member === undefined) continue;
        members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot represent a ${typeof value}`);
  }
}
