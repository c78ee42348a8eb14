import { ModelportError } from "../../core/errors.js";
import { binnedShares, type ColumnSample, countsOfSupport } from "./stats/binning.js";
import { chiSquareTest } from "./stats/chi-square.js";
import type { Counts } from "./stats/counts.js";
import { jensenShannonDistance, populationStabilityIndex } from "./stats/divergence.js";
import { ks2samp } from "./stats/ks.js";
import { meanAndStd } from "./stats/support.js";
import { wassersteinNormed } from "./stats/wasserstein.js";
import { zTest } from "./stats/z-test.js";

export const DRIFT_TEST_NAMES = ["ks", "chi2", "z", "wasserstein_norm", "jensenshannon", "psi"] as const;
export type DriftTestName = (typeof DRIFT_TEST_NAMES)[number];

/** Evidently's default thresholds: p-value tests at 0.05, distances at 0.1. */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftTestName, number>> = {
  ks: 0.05,
  chi2: 0.05,
  z: 0.05,
  wasserstein_norm: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};

export function isDriftTestName(value: string): value is DriftTestName {
  return (DRIFT_TEST_NAMES as readonly string[]).includes(value);
}

export interface TestOutcome {
  test: DriftTestName;
  /** KS D, Pearson χ², z, or the distance; null when it is not a finite number (χ² with a new category). */
  statistic: number | null;
  /** Null for distance tests. */
  pValue: number | null;
  threshold: number;
  drift: boolean;
}

/** A column as a test sees it, plus what the default rule needs to know. */
export interface ColumnPair {
  name: string;
  reference: ColumnSample;
  current: ColumnSample;
  /** Either side has more distinct values than its sample lists (sketches, overflowed windows). */
  manyDistinct?: boolean;
  /** The reference's population standard deviation when known exactly from a sketch. */
  referenceStd?: number;
}

function sizeOf(sample: ColumnSample): number {
  if (sample.kind === "numeric") return sample.support.total;
  let total = 0;
  for (const count of sample.counts.values()) total += count;
  return total;
}

function distinctUnion(pair: ColumnPair): number {
  if (pair.manyDistinct) return Number.POSITIVE_INFINITY;
  const keys = new Set<string | number>();
  for (const sample of [pair.reference, pair.current]) {
    if (sample.kind === "numeric") for (const value of sample.support.values) keys.add(value);
    else for (const key of sample.counts.keys()) keys.add(key);
  }
  return keys.size;
}

/**
 * Evidently's default test (`_get_default_stattest` in
 * evidently/legacy/calculations/stattests/registry.py), with n = distinct values of both samples
 * together: reference ≤ 1000 values → numeric n > 5: KS; n ≤ 5 (numeric) or categorical: χ² when
 * n > 2, else z. Reference > 1000 → numeric n > 5: normed Wasserstein; otherwise Jensen–Shannon.
 */
export function defaultTestFor(pair: ColumnPair): DriftTestName {
  const n = distinctUnion(pair);
  const numeric = pair.reference.kind === "numeric" && pair.current.kind === "numeric";
  if (sizeOf(pair.reference) <= 1000) {
    if (numeric && n > 5) return "ks";
    return n > 2 ? "chi2" : "z";
  }
  return numeric && n > 5 ? "wasserstein_norm" : "jensenshannon";
}

function countsOf(sample: ColumnSample): Counts {
  return sample.kind === "numeric" ? countsOfSupport(sample.support) : sample.counts;
}

/** Runs one named test the way Evidently runs it; `threshold` defaults to Evidently's. */
export function runDriftTest(test: DriftTestName, pair: ColumnPair, threshold = DEFAULT_THRESHOLDS[test]): TestOutcome {
  const { reference, current } = pair;
  if (sizeOf(reference) === 0 || sizeOf(current) === 0) {
    const side = sizeOf(reference) === 0 ? "reference" : "current";
    throw new ModelportError("MP_INVALID_REQUEST", `column '${pair.name}' has no values in the ${side} data`, {
      param: pair.name,
    });
  }
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  switch (test) {
    case "ks":
    case "wasserstein_norm": {
      if (reference.kind !== "numeric" || current.kind !== "numeric") {
        throw new ModelportError(
          "MP_INVALID_REQUEST",
          `test '${test}' needs a numeric column; '${pair.name}' is categorical`,
          { param: pair.name },
        );
      }
      if (test === "ks") {
        const result = ks2samp(reference.support, current.support);
        return {
          test,
          statistic: result.statistic,
          pValue: result.pValue,
          threshold,
          drift: result.pValue <= threshold,
        };
      }
      const std = pair.referenceStd ?? meanAndStd(reference.support).std;
      const distance = wassersteinNormed(reference.support, current.support, std);
      return { test, statistic: distance, pValue: null, threshold, drift: distance >= threshold };
    }
    case "chi2": {
      const result = chiSquareTest(countsOf(reference), countsOf(current));
      // NaN p (a single category) is not drift, as `NaN < threshold` is false in Evidently.
      return {
        test,
        statistic: finite(result.statistic),
        pValue: finite(result.pValue),
        threshold,
        drift: result.pValue < threshold,
      };
    }
    case "z": {
      const result = zTest(countsOf(reference), countsOf(current));
      return {
        test,
        statistic: finite(result.statistic),
        pValue: finite(result.pValue),
        threshold,
        drift: result.pValue < threshold,
      };
    }
    case "jensenshannon": {
      const shares = binnedShares(reference, current, false);
      const distance = jensenShannonDistance(shares.reference, shares.current);
      return { test, statistic: finite(distance), pValue: null, threshold, drift: distance >= threshold };
    }
    case "psi": {
      const shares = binnedShares(reference, current, true);
      const psi = populationStabilityIndex(shares.reference, shares.current);
      return { test, statistic: finite(psi), pValue: null, threshold, drift: psi >= threshold };
    }
  }
}
