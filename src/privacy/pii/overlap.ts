import { type PiiCandidate, type PiiEntityType, piiEntityTypes } from "./types.js";

const typeOrder = new Map<PiiEntityType, number>(piiEntityTypes.map((type, index) => [type, index]));

/**
 * Turns overlapping candidates into sorted, non-overlapping spans, so operators can rewrite the
 * text by slicing without corrupting it. Deterministic: the higher score wins, then the longer
 * span, then the earlier start, then the type's order in `piiEntityTypes`.
 */
export function resolveOverlaps<T extends PiiCandidate>(candidates: readonly T[]): T[] {
  // Most spans overlap nothing: sweep by start into clusters of mutually chained overlaps and rank
  // only inside a cluster, so the cost stays O(n log n) even with tens of thousands of findings.
  const byStart = candidates
    .filter((candidate) => candidate.end > candidate.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const result: T[] = [];
  let cluster: T[] = [];
  let clusterEnd = -1;
  const flush = () => {
    if (cluster.length === 1) result.push(cluster[0] as T);
    else if (cluster.length > 1) result.push(...resolveCluster(cluster));
    cluster = [];
  };
  for (const candidate of byStart) {
    if (candidate.start >= clusterEnd) flush();
    cluster.push(candidate);
    clusterEnd = Math.max(clusterEnd, candidate.end);
  }
  flush();
  return result;
}

function resolveCluster<T extends PiiCandidate>(cluster: readonly T[]): T[] {
  const ranked = [...cluster].sort(
    (a, b) =>
      b.score - a.score ||
      b.end - b.start - (a.end - a.start) ||
      a.start - b.start ||
      (typeOrder.get(a.type) ?? 99) - (typeOrder.get(b.type) ?? 99),
  );
  const kept: T[] = []; // sorted by start, non-overlapping
  for (const candidate of ranked) {
    // The first kept span that ends after the candidate starts is the only one that can overlap.
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((kept[middle] as T).end <= candidate.start) low = middle + 1;
      else high = middle;
    }
    const next = kept[low];
    if (next !== undefined && next.start < candidate.end) continue;
    kept.splice(low, 0, candidate);
  }
  return kept;
}
