import { ModelportError } from "../../core/errors.js";
import type { StepSpec } from "./spec.js";
import { tokenize } from "./tokenizer.js";

/**
 * Turns a step's JSON spec into a writer that encodes one cell into the output row. Fitting and
 * loading both go through here, so a saved preprocessor transforms exactly like the fitted one.
 */
export interface CompiledStep {
  readonly spec: StepSpec;
  readonly width: number;
  /** Writes this step's features for one cell at `out[offset .. offset + width)` (pre-zeroed). */
  write(cell: unknown, out: Float32Array, offset: number): void;
}

function invalid(message: string, column: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param: column });
}

function isMissing(cell: unknown): boolean {
  return cell === null || cell === undefined || (typeof cell === "number" && Number.isNaN(cell));
}

function toNumber(cell: unknown, column: string): number | undefined {
  if (isMissing(cell)) return undefined;
  if (typeof cell === "number" && Number.isFinite(cell)) return cell;
  if (typeof cell === "string" && cell.trim() !== "" && Number.isFinite(Number(cell))) return Number(cell);
  throw invalid(`column '${column}' expects a number, got ${JSON.stringify(cell)}`, column);
}

/** Categories are matched by kind and value, with numeric strings also matching numbers (OIP sends text). */
function categoryIndex(categories: readonly (string | number)[]): (cell: unknown) => number | undefined {
  const index = new Map<string, number>();
  categories.forEach((category, i) => {
    index.set(`${typeof category}:${category}`, i);
  });
  const numeric = categories.some((category) => typeof category === "number");
  return (cell) => {
    if (typeof cell === "boolean") return index.get(`string:${cell}`);
    if (typeof cell !== "string" && typeof cell !== "number") return undefined;
    const direct = index.get(`${typeof cell}:${cell}`);
    if (direct !== undefined || !numeric || typeof cell !== "string") return direct;
    return cell.trim() === "" ? undefined : index.get(`number:${Number(cell)}`);
  };
}

function flattenPixels(cell: unknown, size: number, column: string): ArrayLike<number> {
  if (ArrayBuffer.isView(cell) && !(cell instanceof DataView)) {
    const view = cell as unknown as ArrayLike<number>;
    if (view.length === size) return view;
  } else if (Array.isArray(cell)) {
    const flat = (cell as unknown[]).flat(3) as unknown[];
    if (flat.length === size && flat.every((value) => typeof value === "number")) return flat as number[];
  }
  throw invalid(`column '${column}' expects an image of ${size} numbers`, column);
}

function textOf(cell: unknown, column: string): string {
  if (isMissing(cell)) return "";
  if (typeof cell === "string") return cell;
  if (typeof cell === "number" || typeof cell === "boolean") return String(cell);
  throw invalid(`column '${column}' expects text`, column);
}

function vocabularyIndex(vocabulary: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  vocabulary.forEach((term, i) => {
    index.set(term, i);
  });
  return index;
}

export function compileStep(spec: StepSpec): CompiledStep {
  const { column } = spec;
  switch (spec.kind) {
    case "standard":
      return {
        spec,
        width: 1,
        write(cell, out, offset) {
          const value = toNumber(cell, column) ?? spec.mean;
          out[offset] = (value - spec.mean) / spec.scale;
        },
      };
    case "min-max":
      return {
        spec,
        width: 1,
        write(cell, out, offset) {
          const value = toNumber(cell, column) ?? spec.fill;
          out[offset] = (value - spec.min) / spec.range;
        },
      };
    case "passthrough":
      return {
        spec,
        width: 1,
        write(cell, out, offset) {
          out[offset] = toNumber(cell, column) ?? spec.fill;
        },
      };
    case "one-hot": {
      const find = categoryIndex(spec.categories);
      return {
        spec,
        width: spec.categories.length,
        write(cell, out, offset) {
          if (isMissing(cell)) return;
          const index = find(cell);
          if (index !== undefined) out[offset + index] = 1;
          else if (spec.unknown === "error") {
            throw invalid(`column '${column}': unknown category ${JSON.stringify(cell)}`, column);
          }
        },
      };
    }
    case "ordinal": {
      const find = categoryIndex(spec.categories);
      return {
        spec,
        width: 1,
        write(cell, out, offset) {
          const index = isMissing(cell) ? undefined : find(cell);
          if (index !== undefined) {
            out[offset] = index;
            return;
          }
          if (spec.unknownValue === null) {
            throw invalid(`column '${column}': unknown category ${JSON.stringify(cell)}`, column);
          }
          out[offset] = spec.unknownValue;
        },
      };
    }
    case "bag-of-words": {
      const index = vocabularyIndex(spec.vocabulary);
      const idf = spec.idf;
      if (spec.mode === "tf-idf" && (idf === undefined || idf.length !== spec.vocabulary.length)) {
        throw invalid(`column '${column}': tf-idf needs one idf weight per vocabulary term`, column);
      }
      return {
        spec,
        width: spec.vocabulary.length,
        write(cell, out, offset) {
          const touched: number[] = [];
          for (const token of tokenize(textOf(cell, column))) {
            const term = index.get(token);
            if (term === undefined) continue;
            if (out[offset + term] === 0) touched.push(term);
            out[offset + term] = spec.mode === "binary" ? 1 : (out[offset + term] as number) + 1;
          }
          if (spec.mode !== "tf-idf" || idf === undefined) return;
          // sklearn's TfidfTransformer: raw counts × idf, then the row scaled to unit L2 norm.
          let norm = 0;
          for (const term of touched) {
            const weighted = (out[offset + term] as number) * (idf[term] as number);
            out[offset + term] = weighted;
            norm += weighted * weighted;
          }
          if (norm === 0) return;
          const inverse = 1 / Math.sqrt(norm);
          for (const term of touched) out[offset + term] = (out[offset + term] as number) * inverse;
        },
      };
    }
    case "sequence": {
      const index = vocabularyIndex(spec.vocabulary);
      return {
        spec,
        width: spec.length,
        write(cell, out, offset) {
          let ids = tokenize(textOf(cell, column)).map((token) => {
            const term = index.get(token);
            return term === undefined ? 1 : term + 2;
          });
          if (ids.length > spec.length) {
            ids = spec.truncating === "pre" ? ids.slice(ids.length - spec.length) : ids.slice(0, spec.length);
          }
          const start = spec.padding === "pre" ? spec.length - ids.length : 0;
          for (let i = 0; i < ids.length; i++) out[offset + start + i] = ids[i] as number;
        },
      };
    }
    case "image": {
      const size = spec.shape.reduce((product, n) => product * n, 1);
      return {
        spec,
        width: size,
        write(cell, out, offset) {
          const pixels = flattenPixels(cell, size, column);
          for (let i = 0; i < size; i++) {
            const value = pixels[i] as number;
            if (!Number.isFinite(value)) throw invalid(`column '${column}': pixel ${i} is ${value}`, column);
            out[offset + i] = value * spec.scale;
          }
        },
      };
    }
  }
}
