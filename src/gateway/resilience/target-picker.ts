import { ModelportError } from "../../core/errors.js";
import { FNV_OFFSET_BASIS, fmix32, fnv1aUpdate } from "./stable-hash.js";

/**
 * Choosing the primary target of a route. Both functions return an index into `targets` and
 * allocate nothing.
 *
 * - `pickWeighted`: a weighted random draw (canary splits), one `random()` call per pick.
 * - `pickSticky`: weighted rendezvous hashing (highest random weight): each target scores
 *   `-weight / ln(u)` with `u = hash(key, target id)` mapped into (0, 1), and the highest score
 *   wins. The result depends only on the key, the target ids and the weights; the share of keys
 *   per target equals its share of the weight; and changing one target's weight moves only keys
 *   to or from that target (about the size of its share change), so a canary ramp does not
 *   reshuffle everyone else. Hashing the target *id* (not its position) means reordering the
 *   list or adding a target leaves existing assignments alone except for keys the new target wins.
 *
 * Weights must be finite and ≥ 0; a zero-weight target is never chosen; a list with no positive
 * weight is a configuration error (MP_CONFIG_INVALID).
 */
export interface WeightedTarget {
  readonly weight: number;
}

export interface IdentifiedWeightedTarget extends WeightedTarget {
  readonly id: string;
}

function invalid(message: string): ModelportError {
  return new ModelportError("MP_CONFIG_INVALID", message);
}

function checkedWeight(weight: number, index: number): number {
  if (!(weight >= 0) || weight === Number.POSITIVE_INFINITY) {
    throw invalid(`target ${index} has weight ${weight}; weights must be finite numbers ≥ 0`);
  }
  return weight;
}

/** Sum of the weights, validating each; throws when nothing can be chosen. */
export function totalWeight(targets: readonly WeightedTarget[]): number {
  let total = 0;
  for (let index = 0; index < targets.length; index++) total += checkedWeight(targets[index]?.weight ?? 0, index);
  if (!(total > 0)) {
    throw invalid(targets.length === 0 ? "a route needs at least one target" : "every target has weight 0");
  }
  return total;
}

/** Weighted random choice; `random` returns a number in [0, 1). */
export function pickWeighted(targets: readonly WeightedTarget[], random: () => number): number {
  const total = totalWeight(targets);
  if (targets.length === 1) return 0;
  let remaining = random() * total;
  let lastPositive = 0;
  for (let index = 0; index < targets.length; index++) {
    const weight = targets[index]?.weight ?? 0;
    if (weight <= 0) continue;
    if (remaining < weight) return index;
    remaining -= weight;
    lastPositive = index;
  }
  // Floating-point residue can leave `remaining` a hair above 0 after the last target.
  return lastPositive;
}

// Separates key and id in the hashed text, so ("ab","c") and ("a","bc") hash differently.
const SEPARATOR = "\u0000";
const TWO_TO_32 = 4_294_967_296;

/** The rendezvous score of one target for a key whose FNV state (after the separator) is given. */
function rendezvousScore(keyState: number, id: string, weight: number): number {
  const hash = fmix32(fnv1aUpdate(keyState, id));
  // (hash + 0.5) / 2^32 lies strictly inside (0, 1), so ln(u) is finite and negative.
  return -weight / Math.log((hash + 0.5) / TWO_TO_32);
}

/** Deterministic weighted choice for `key` (sticky sessions, per-user canaries). */
export function pickSticky(targets: readonly IdentifiedWeightedTarget[], key: string): number {
  totalWeight(targets);
  if (targets.length === 1) return 0;
  const keyState = fnv1aUpdate(fnv1aUpdate(FNV_OFFSET_BASIS, key), SEPARATOR);
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < targets.length; index++) {
    const target = targets[index];
    if (!target || target.weight <= 0) continue;
    const score = rendezvousScore(keyState, target.id, target.weight);
    if (score > bestScore) {
      bestScore = score;
      best = index;
    }
  }
  return best;
}
