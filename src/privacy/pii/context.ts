/**
 * Context words: a word like "card" or 卡号 near a candidate raises its score. Windows are in UTF-16
 * units (Chinese has no spaces to count words by). English words match on word boundaries, with an
 * optional plural "s"; CJK words match anywhere in the window.
 */
export const contextWindowBefore = 48;
export const contextWindowAfter = 24;

export interface ContextMatcher {
  /** True when a context word occurs within the window around [start, end). */
  near(text: string, start: number, end: number): boolean;
}

const escapeRegExp = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function createContextMatcher(
  words: readonly string[],
  before = contextWindowBefore,
  after = contextWindowAfter,
): ContextMatcher {
  const ascii = words.filter((word) => /^[\x20-\x7e]+$/.test(word)).map((word) => word.toLowerCase());
  const other = words.filter((word) => !/^[\x20-\x7e]+$/.test(word));
  const parts = [
    ...ascii.map((word) => `(?<![a-z0-9])${escapeRegExp(word).replace(/ /g, "[ _-]?")}s?(?![a-z0-9])`),
    ...other.map(escapeRegExp),
  ];
  const pattern = new RegExp(parts.join("|"), "i");
  return {
    near(text, start, end) {
      const window = `${text.slice(Math.max(0, start - before), start)} ${text.slice(end, end + after)}`;
      return pattern.test(window);
    },
  };
}

/** Clamps a score into [0, 1] with two decimals, so outputs are stable across platforms. */
export function clampScore(score: number): number {
  return Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
}
