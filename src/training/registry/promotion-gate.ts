import type { ModelTask, ModelVersion } from "./types.js";

/**
 * Decides whether `candidate` may take an alias from `current`. Comparisons only mean something
 * on the same test set: the same dataset version and split seed, both recorded in lineage.
 */
export interface GateDecision {
  allowed: boolean;
  /** Why it was refused (or, when allowed, a short note for history). */
  reason: string;
}

export const defaultPromotionThreshold = 0.01;

interface PrimaryMetric {
  name: string;
  higherIsBetter: boolean;
}

/** accuracy (else f1) for classification, rmse for regression. */
export function primaryMetric(task: ModelTask | null, candidate: ModelVersion, current: ModelVersion): PrimaryMetric {
  if (task === "regression") return { name: "rmse", higherIsBetter: false };
  const shared = (name: string) => name in candidate.metrics && name in current.metrics;
  return { name: shared("accuracy") || !shared("f1") ? "accuracy" : "f1", higherIsBetter: true };
}

function sameTestSet(a: ModelVersion, b: ModelVersion): boolean {
  const left = a.lineage;
  const right = b.lineage;
  return (
    left.dataset !== undefined &&
    right.dataset !== undefined &&
    left.dataset.name === right.dataset.name &&
    left.dataset.version === right.dataset.version &&
    left.splitSeed !== undefined &&
    left.splitSeed === right.splitSeed
  );
}

const dataset = (version: ModelVersion) =>
  version.lineage.dataset === undefined
    ? "no dataset"
    : `${version.lineage.dataset.name}@${version.lineage.dataset.version.slice(0, 12)} seed ${version.lineage.splitSeed ?? "?"}`;

export function checkPromotion(
  candidate: ModelVersion,
  current: ModelVersion | undefined,
  threshold: number = defaultPromotionThreshold,
): GateDecision {
  if (current === undefined) return { allowed: true, reason: "the alias had no version" };
  if (current.version === candidate.version) return { allowed: true, reason: "already this version" };
  const task = candidate.task ?? current.task;
  if (candidate.task !== null && current.task !== null && candidate.task !== current.task)
    return {
      allowed: false,
      reason: `v${candidate.version} is ${candidate.task} but v${current.version} is ${current.task}`,
    };
  if (!sameTestSet(candidate, current))
    return {
      allowed: false,
      reason: `v${candidate.version} (${dataset(candidate)}) and v${current.version} (${dataset(current)}) were not evaluated on the same test set`,
    };
  const metric = primaryMetric(task, candidate, current);
  const mine = candidate.metrics[metric.name];
  const theirs = current.metrics[metric.name];
  if (mine === undefined || theirs === undefined)
    return { allowed: false, reason: `both versions need the metric '${metric.name}' to be compared` };
  const worseBy = metric.higherIsBetter ? theirs - mine : mine - theirs;
  if (worseBy > threshold)
    return {
      allowed: false,
      reason: `v${candidate.version} ${metric.name} ${mine} is worse than v${current.version} ${metric.name} ${theirs} by ${Number(worseBy.toPrecision(6))} (threshold ${threshold})`,
    };
  return { allowed: true, reason: `${metric.name} ${mine} vs ${theirs}` };
}
