import { ModelportError } from "../../core/errors.js";

/** A class label as datasets carry them: `"spam"`, `7`. */
export type Label = string | number;

/** Compares strings by Unicode code point, as numpy sorts `str` arrays (JS `<` compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done === true || y.done === true) return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const difference = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
}

/** Order of labels within one kind (all numbers or all strings), sklearn's `unique_labels` order. */
export function compareLabels(a: Label, b: Label): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareCodePoints(String(a), String(b));
}

/** A Map key that keeps `1` and `"1"` apart. */
export function labelKey(label: Label): string {
  return typeof label === "number" ? `n:${label}` : `s:${label}`;
}

function checkLabel(label: unknown, param: string): Label {
  if (typeof label === "string") return label;
  if (typeof label === "number" && Number.isFinite(label)) return label;
  throw new ModelportError("MP_INVALID_REQUEST", `${param} must hold strings or finite numbers, got ${String(label)}`, {
    param,
  });
}

/**
 * The sorted set of labels in the given arrays, like sklearn's `unique_labels`: numbers ascending
 * or strings by code point. A mix of strings and numbers is refused, as sklearn refuses it, because
 * no order between them would be the one the user meant.
 */
export function uniqueLabels(...arrays: ReadonlyArray<readonly Label[]>): Label[] {
  const seen = new Map<string, Label>();
  let kind: "string" | "number" | undefined;
  for (const array of arrays) {
    for (const raw of array) {
      const label = checkLabel(raw, "labels");
      const thisKind = typeof label === "number" ? "number" : "string";
      if (kind !== undefined && kind !== thisKind) {
        throw new ModelportError("MP_INVALID_REQUEST", "labels mix strings and numbers; use one kind", {
          param: "labels",
        });
      }
      kind = thisKind;
      seen.set(labelKey(label), label);
    }
  }
  return [...seen.values()].sort(compareLabels);
}

/** Label → column index for a fixed label list; refuses duplicates. */
export function indexLabels(labels: readonly Label[]): Map<string, number> {
  const index = new Map<string, number>();
  labels.forEach((label, position) => {
    const key = labelKey(checkLabel(label, "labels"));
    if (index.has(key)) {
      throw new ModelportError("MP_INVALID_REQUEST", `labels lists ${String(label)} twice`, { param: "labels" });
    }
    index.set(key, position);
  });
  return index;
}

export function checkSameLength(a: { length: number }, b: { length: number }, names: [string, string]): void {
  if (a.length !== b.length) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `${names[0]} has ${a.length} entries but ${names[1]} has ${b.length}`,
      { param: names[1] },
    );
  }
}

export function checkNotEmpty(a: { length: number }, name: string): void {
  if (a.length === 0) {
    throw new ModelportError("MP_INVALID_REQUEST", `${name} is empty`, { param: name });
  }
}
