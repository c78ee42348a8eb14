import type { LiveQuality } from "../feedback/types.js";
import type { RequestStats } from "../rules/request-stats.js";

/** A canary's SLOs, relative to the stable target serving the same endpoint. */
export interface CanarySlo {
  /** Roll back when canary error rate > stable error rate + this (absolute; 0.02 = 2 points). */
  maxErrorRateIncrease: number;
  /** Roll back when canary p99 latency > stable p99 × this. */
  maxLatencyRatio: number;
  /** Roll back when canary accuracy < stable accuracy − this. */
  maxAccuracyDrop: number;
  /** Both targets need this many requests in the window before error rate or latency decide. */
  minRequests: number;
  /** Both targets need this many labeled predictions before accuracy decides. */
  minLabels: number;
}

export const DEFAULT_CANARY_SLO: Readonly<CanarySlo> = Object.freeze({
  maxErrorRateIncrease: 0.02,
  maxLatencyRatio: 1.5,
  maxAccuracyDrop: 0.05,
  minRequests: 50,
  minLabels: 30,
});

export interface TargetHealth {
  requests: RequestStats;
  /** Absent when feedback is not wired or the endpoint does not classify. */
  quality?: LiveQuality | undefined;
}

export interface RollbackDecision {
  rollback: boolean;
  reasons: string[];
  /** SLOs that could not be judged yet (too little traffic or too few labels). */
  undecided: string[];
}

const pct = (value: number) => `${(value * 100).toFixed(2)}%`;

/** Pure comparison of a canary with its stable target; no I/O, so the thresholds are easy to test. */
export function decideRollback(canary: TargetHealth, stable: TargetHealth, slo: CanarySlo): RollbackDecision {
  const reasons: string[] = [];
  const undecided: string[] = [];
  const enoughTraffic = canary.requests.requests >= slo.minRequests && stable.requests.requests >= slo.minRequests;
  if (!enoughTraffic) {
    undecided.push(
      `error rate and latency: ${canary.requests.requests} canary / ${stable.requests.requests} stable requests (need ${slo.minRequests} each)`,
    );
  } else {
    const canaryRate = canary.requests.errorRate ?? 0;
    const stableRate = stable.requests.errorRate ?? 0;
    if (canaryRate > stableRate + slo.maxErrorRateIncrease)
      reasons.push(
        `error rate ${pct(canaryRate)} > stable ${pct(stableRate)} + ${pct(slo.maxErrorRateIncrease)} (${canary.requests.requests} requests)`,
      );
    const canaryP99 = canary.requests.p99LatencyUs;
    const stableP99 = stable.requests.p99LatencyUs;
    if (canaryP99 !== null && stableP99 !== null && stableP99 > 0 && canaryP99 > stableP99 * slo.maxLatencyRatio)
      reasons.push(
        `p99 latency ${(canaryP99 / 1000).toFixed(1)} ms > ${slo.maxLatencyRatio} × stable ${(stableP99 / 1000).toFixed(1)} ms`,
      );
  }
  const canaryQuality = canary.quality;
  const stableQuality = stable.quality;
  if (canaryQuality && stableQuality) {
    if (canaryQuality.labeled < slo.minLabels || stableQuality.labeled < slo.minLabels) {
      undecided.push(
        `accuracy: ${canaryQuality.labeled} canary / ${stableQuality.labeled} stable labels (need ${slo.minLabels} each)`,
      );
    } else if (
      canaryQuality.accuracy !== null &&
      stableQuality.accuracy !== null &&
      canaryQuality.accuracy < stableQuality.accuracy - slo.maxAccuracyDrop
    ) {
      reasons.push(
        `accuracy ${canaryQuality.accuracy.toFixed(4)} < stable ${stableQuality.accuracy.toFixed(4)} − ${slo.maxAccuracyDrop}`,
      );
    }
  }
  return { rollback: reasons.length > 0, reasons, undecided };
}
