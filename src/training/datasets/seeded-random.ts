/**
 * A small seeded PRNG (sfc32, state from splitmix32 of the seed) for splits and augmentation:
 * the same seed gives the same sequence on every platform, which Math.random cannot promise.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  integer(maxExclusive: number): number;
  /** Uniform in [low, high). */
  uniform(low: number, high: number): number;
  /** Fisher–Yates in place; returns the array. */
  shuffle<T>(array: T[]): T[];
}

/** Folds a string seed into 32 bits (FNV-1a), so `--seed digits-v1` works as well as `--seed 42`. */
function seedBits(seed: number | string): number {
  if (typeof seed === "number") {
    if (!Number.isFinite(seed)) throw new RangeError("seed must be a finite number");
    // Both halves of the integer part matter, so 2**32 + 1 and 1 differ.
    const integer = Math.trunc(seed);
    return (integer ^ Math.floor(integer / 2 ** 32) ^ Math.round((seed - integer) * 2 ** 31)) >>> 0;
  }
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function createSeededRandom(seed: number | string): SeededRandom {
  let state = seedBits(seed);
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  // Discard the first outputs: sfc32 mixes its state during the first dozen steps.
  for (let i = 0; i < 12; i++) next32();

  const random: SeededRandom = {
    next: () => next32() / 2 ** 32,
    integer(maxExclusive) {
      if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) {
        throw new RangeError("maxExclusive must be a positive integer");
      }
      return Math.floor(random.next() * maxExclusive);
    },
    uniform: (low, high) => low + (high - low) * random.next(),
    shuffle(array) {
      for (let i = array.length - 1; i > 0; i--) {
        const j = random.integer(i + 1);
        const swap = array[i] as (typeof array)[number];
        array[i] = array[j] as (typeof array)[number];
        array[j] = swap;
      }
      return array;
    },
  };
  return random;
}
