import { ModelportError } from "../../core/errors.js";
import { type ColumnPair, type DriftTestName, defaultTestFor, runDriftTest } from "./column-test.js";

export interface DriftColumnReport {
  name: string;
  type: "numeric" | "categorical";
  test: DriftTestName;
  statistic: number | null;
  /** Null for distance tests (wasserstein_norm, jensenshannon, psi). */
  pValue: number | null;
  threshold: number;
  drift: boolean;
}

/** The shape `modelport drift --json` prints (CONTRACT.md). */
export interface DriftReport {
  columns: DriftColumnReport[];
  /** Drifted columns over all columns. */
  driftShare: number;
  /** driftShare ≥ the dataset threshold (0.5 by default, Evidently's `drift_share`). */
  datasetDrift: boolean;
}

export interface DriftOptions {
  /** One test for every column; by default each column gets Evidently's default test. */
  test?: DriftTestName;
  /** Per-test thresholds overriding Evidently's defaults. */
  thresholds?: Partial<Record<DriftTestName, number>>;
  /** Share of drifted columns at which the dataset counts as drifted (default 0.5). */
  driftShare?: number;
}

/** Tests every column and applies Evidently's dataset rule (`get_dataset_drift`: share ≥ drift_share). */
export function driftReport(pairs: readonly ColumnPair[], options: DriftOptions = {}): DriftReport {
  if (pairs.length === 0) throw new ModelportError("MP_INVALID_REQUEST", "no columns to compare");
  const columns = pairs.map((pair): DriftColumnReport => {
    const test = options.test ?? defaultTestFor(pair);
    const outcome = runDriftTest(test, pair, options.thresholds?.[test]);
    return {
      name: pair.name,
      type: pair.reference.kind,
      test,
      statistic: outcome.statistic,
      pValue: outcome.pValue,
      threshold: outcome.threshold,
      drift: outcome.drift,
    };
  });
  const drifted = columns.filter((column) => column.drift).length;
  const driftShare = drifted / columns.length;
  return { columns, driftShare, datasetDrift: driftShare >= (options.driftShare ?? 0.5) };
}
