/**
 * A fast, stable 32-bit string hash for sticky routing: FNV-1a over UTF-16 code units, finished
 * with murmur3's fmix32 avalanche. FNV-1a alone mixes poorly for keys that differ only in their
 * last characters (`user-1`, `user-2`), which would skew rendezvous scores; the finalizer fixes
 * that. No node:crypto, no allocation: the hash of a key prefix can be continued with
 * `fnv1aUpdate` so a picker hashes the key once and each target id on top of it.
 *
 * The output is part of routing behaviour (which user lands on which target), so changing this
 * function reshuffles every sticky assignment: treat it as frozen.
 */

export const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Continues an FNV-1a state over `text`'s UTF-16 code units (low byte, then high byte). */
export function fnv1aUpdate(state: number, text: string): number {
  let hash = state;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    hash = Math.imul(hash ^ (unit & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ (unit >>> 8), FNV_PRIME);
  }
  return hash >>> 0;
}

/** murmur3's 32-bit finalizer: every input bit flips each output bit with probability ~1/2. */
export function fmix32(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Hash of one string, as an unsigned 32-bit integer. */
export function stableHash32(text: string): number {
  return fmix32(fnv1aUpdate(FNV_OFFSET_BASIS, text));
}
