import { supportOfSnapshot } from "./anchored-accumulator.js";
import type { ColumnPair } from "./column-test.js";
import { supportOfSummary } from "./numeric-sketch.js";
import type { ReferenceProfile } from "./profile.js";
import { type DriftOptions, type DriftReport, driftReport } from "./report.js";
import type { WindowProfile } from "./window.js";

export interface ProfileDriftReport extends DriftReport {
  /** Columns whose result came from sketches rather than exact samples (see README: what is exact). */
  approximateColumns: string[];
  /** Columns left out because one side had no values in the window. */
  skippedColumns: string[];
}

/**
 * Compares a live window with its reference profile: the same tests and the same default rule as
 * `modelport drift` on raw data. Exact where both sides are exact samples (every reference of ≤
 * 2048 distinct values per column with a window that met ≤ 64 new values; KS stays exact with an
 * exact reference at any window size); approximate columns are listed.
 */
export function compareProfiles(
  reference: ReferenceProfile,
  window: WindowProfile,
  options: DriftOptions = {},
): ProfileDriftReport {
  const current = new Map(window.columns.map((column) => [column.name, column.summary]));
  const pairs: ColumnPair[] = [];
  const approximateColumns: string[] = [];
  const skippedColumns: string[] = [];
  for (const column of reference.columns) {
    const summary = column.summary;
    const live = current.get(column.name);
    if (!live || live.count === 0 || summary.count === 0 || live.kind !== summary.kind) {
      skippedColumns.push(column.name);
      continue;
    }
    if (summary.kind === "numeric" && live.kind === "numeric") {
      const anchors = Float64Array.from(summary.support.values);
      const windowExact = live.extra !== null;
      const pair: ColumnPair = {
        name: column.name,
        reference: { kind: "numeric", support: supportOfSummary(summary), integral: summary.integral },
        current: { kind: "numeric", support: supportOfSnapshot(anchors, live), integral: live.integral },
        manyDistinct: !summary.exact || !windowExact,
        referenceStd: summary.std,
      };
      pairs.push(pair);
      const test = options.test;
      // KS on an exact reference stays exact whatever the window did.
      if (!summary.exact || (!windowExact && test !== "ks" && !(test === undefined && summary.count <= 1000))) {
        approximateColumns.push(column.name);
      }
    } else if (summary.kind === "categorical" && live.kind === "categorical") {
      pairs.push({
        name: column.name,
        reference: { kind: "categorical", counts: new Map(Object.entries(summary.counts)) },
        current: { kind: "categorical", counts: new Map(Object.entries(live.counts)) },
      });
      if (!summary.exact || !live.exact) approximateColumns.push(column.name);
    }
  }
  return { ...driftReport(pairs, options), approximateColumns, skippedColumns };
}
