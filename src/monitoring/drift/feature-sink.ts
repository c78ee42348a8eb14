import {
  type DerivedColumn,
  derivedColumns,
  type FeatureSpec,
  isPixelArray,
  pixelStatistics,
  toCategory,
  tokenize,
  toNumber,
} from "./features.js";

export interface NumericSink {
  add(value: number): void;
  addMissing(count?: number): void;
  addMany(values: ArrayLike<number>): void;
}

export interface CategoricalSink {
  add(value: string): void;
  addMissing(count?: number): void;
  addCodes(codes: ArrayLike<number>, dictionary: readonly string[]): void;
}

/** A categorical column given as codes into a dictionary (how pandas/Arrow hold categoricals). */
export interface DictionaryColumn {
  codes: ArrayLike<number>;
  dictionary: readonly string[];
}

/** One batch of rows as columns: numbers, strings, dictionary-encoded categories, or per-row values. */
export type ColumnValues = ArrayLike<number> | readonly unknown[] | DictionaryColumn;

export interface FeatureSink {
  readonly columns: DerivedColumn[];
  add(value: unknown): void;
  addColumn(values: ColumnValues): void;
}

export interface SinkFactory {
  numeric(column: DerivedColumn): NumericSink;
  categorical(column: DerivedColumn): CategoricalSink;
}

const isDictionary = (values: ColumnValues): values is DictionaryColumn =>
  typeof values === "object" && values !== null && "codes" in values && "dictionary" in values;

/** Routes one feature's raw values into the accumulators of its derived columns. */
export function createFeatureSink(spec: FeatureSpec, factory: SinkFactory): FeatureSink {
  const columns = derivedColumns(spec);
  const [first, second, third] = columns as [DerivedColumn, DerivedColumn?, DerivedColumn?];
  const forEach = (values: ColumnValues, add: (value: unknown) => void) => {
    if (isDictionary(values)) {
      for (let i = 0; i < values.codes.length; i++) {
        const code = values.codes[i] as number;
        add(code < 0 ? undefined : values.dictionary[code]);
      }
    } else for (let i = 0; i < values.length; i++) add(values[i]);
  };

  switch (spec.type) {
    case "numeric": {
      const sink = factory.numeric(first);
      const add = (value: unknown) => sink.add(toNumber(value));
      return {
        columns,
        add,
        addColumn(values) {
          if (ArrayBuffer.isView(values)) sink.addMany(values as unknown as ArrayLike<number>);
          else forEach(values, add);
        },
      };
    }
    case "categorical": {
      const sink = factory.categorical(first);
      const add = (value: unknown) => {
        const category = toCategory(value);
        if (category === undefined) sink.addMissing();
        else sink.add(category);
      };
      return {
        columns,
        add,
        addColumn(values) {
          if (isDictionary(values)) sink.addCodes(values.codes, values.dictionary);
          else forEach(values, add);
        },
      };
    }
    case "text": {
      const length = factory.numeric(first);
      const vocabulary = factory.categorical(second as DerivedColumn);
      const add = (value: unknown) => {
        if (typeof value !== "string") {
          length.addMissing();
          vocabulary.addMissing();
          return;
        }
        length.add(value.length);
        for (const token of tokenize(value)) vocabulary.add(token);
      };
      return { columns, add, addColumn: (values) => forEach(values, add) };
    }
    case "image": {
      const mean = factory.numeric(first);
      const std = factory.numeric(second as DerivedColumn);
      const pixels = factory.numeric(third as DerivedColumn);
      const add = (value: unknown) => {
        if (!isPixelArray(value)) {
          mean.addMissing();
          std.addMissing();
          pixels.addMissing();
          return;
        }
        const statistics = pixelStatistics(value);
        mean.add(statistics.mean);
        std.add(statistics.std);
        pixels.addMany(value);
      };
      return { columns, add, addColumn: (values) => forEach(values, add) };
    }
  }
}
