/**
 * How raw feature values become the columns drift is tested on. Numeric and categorical features
 * are one column each. A text feature becomes `NAME.length` (characters, numeric) and
 * `NAME.vocabulary` (word tokens, categorical over the reference's most frequent words); an image
 * feature (an array of pixel values) becomes `NAME.mean` and `NAME.std` (per-image brightness and
 * contrast) and `NAME.pixels` (every pixel value). Evidently tests text with a domain classifier
 * instead; these derived columns keep the profile compact and the tests the same as for tabular data.
 */
export type FeatureType = "numeric" | "categorical" | "text" | "image";

export interface FeatureSpec {
  name: string;
  type: FeatureType;
}

export type Derivation = "value" | "length" | "vocabulary" | "mean" | "std" | "pixels";

export interface DerivedColumn {
  name: string;
  feature: string;
  derivation: Derivation;
  kind: "numeric" | "categorical";
}

export function derivedColumns(spec: FeatureSpec): DerivedColumn[] {
  const column = (suffix: string, derivation: Derivation, kind: DerivedColumn["kind"]): DerivedColumn => ({
    name: suffix ? `${spec.name}.${suffix}` : spec.name,
    feature: spec.name,
    derivation,
    kind,
  });
  switch (spec.type) {
    case "numeric":
      return [column("", "value", "numeric")];
    case "categorical":
      return [column("", "value", "categorical")];
    case "text":
      return [column("length", "length", "numeric"), column("vocabulary", "vocabulary", "categorical")];
    case "image":
      return [
        column("mean", "mean", "numeric"),
        column("std", "std", "numeric"),
        column("pixels", "pixels", "numeric"),
      ];
  }
}

const NUMBER_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number from a row value: numbers as they are, decimal strings parsed, anything else missing (NaN). */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const trimmed = value.trim();
    return NUMBER_PATTERN.test(trimmed) ? Number(trimmed) : Number.NaN;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  return Number.NaN;
}

/** A category from a row value; null, undefined and "" are missing. */
export function toCategory(value: unknown): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value === "number" && !Number.isFinite(value)) return undefined;
  return String(value);
}

const WORD = /[\p{L}\p{N}]+/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** Mean and population standard deviation of one image's pixels. */
export function pixelStatistics(pixels: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < pixels.length; i++) sum += pixels[i] as number;
  const mean = sum / pixels.length;
  let squares = 0;
  for (let i = 0; i < pixels.length; i++) squares += ((pixels[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / pixels.length) };
}

export function isPixelArray(value: unknown): value is ArrayLike<number> {
  return (
    (Array.isArray(value) || ArrayBuffer.isView(value)) &&
    (value as ArrayLike<unknown>).length > 0 &&
    typeof (value as ArrayLike<unknown>)[0] === "number"
  );
}
