import { foldText } from "./fold-text.js";

/**
 * System-prompt echo detection: does the model's output reproduce a substantial part of a system
 * prompt? Two measures, either one is enough:
 *   - a common substring of at least `minChars` characters (folded: case, width and whitespace
 *     differences ignored), found by indexing every `minChars`-long window of each prompt;
 *   - the share of a prompt's word shingles (n-grams of `shingleSize` words, each CJK character
 *     counting as a word) that appear in the output, which catches an echo reformatted into a list
 *     or with punctuation changed.
 * Works on whole outputs (checkEcho) and on streams (createEchoMonitor), where a match split across
 * chunks is found as soon as its last character arrives.
 */

export interface EchoOptions {
  /** Shortest common substring that counts as an echo (default 80 characters). */
  minChars?: number;
  /** Words per shingle (default 8). */
  shingleSize?: number;
  /** Share of a prompt's shingles that must appear in the output (default 0.5). */
  minShingleCoverage?: number;
  /** Prompts with fewer shingles than this are only checked by substring (default 4). */
  minShingles?: number;
  /** Index at most this many characters of each prompt (default 32768). */
  maxPromptChars?: number;
}

export interface EchoVerdict {
  echoed: boolean;
  /** Longest run of output found verbatim in a prompt so far (folded characters, approximate). */
  longestMatch: number;
  /** Highest share of any one prompt's shingles seen in the output so far, in [0, 1]. */
  shingleCoverage: number;
  /** Which prompt (index into the list given) the evidence points at, once there is some. */
  promptIndex?: number;
  /** "substring" or "shingles": which measure decided, when echoed. */
  reason?: "substring" | "shingles";
}

export interface EchoMonitor {
  /** Feeds the next piece of output; returns the verdict so far. Once echoed, stays echoed. */
  push(delta: string): EchoVerdict;
  /** Ends the stream (flushes the last partial word) and returns the final verdict. */
  finish(): EchoVerdict;
  verdict(): EchoVerdict;
}

const WORD = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}_]+/gu;

function foldForEcho(text: string): string {
  return foldText(text).text.replace(/\n/g, " ");
}

function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

interface PromptIndex {
  /** Folded prompt texts, for verifying a hash hit. */
  folded: string[];
  /** Rolling hash of each minChars-long prompt window (30 bits) -> promptIndex * 2^20 + offset. */
  windows: Map<number, number>;
  shingles: Map<string, number[]>;
  shingleCounts: number[];
}

// Polynomial rolling hash over UTF-16 units, mod 2^32 (Math.imul wraps), keyed on 30 bits so the
// Map keys stay small integers. A hit is verified against the prompt text, so collisions cost a
// comparison, never a false echo.
const BASE = 0x01000193;
const KEY_MASK = 0x3fffffff;
const OFFSET_SPAN = 1 << 20;

function power(exponent: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = Math.imul(result, BASE);
  return result;
}

function buildIndex(prompts: readonly string[], minChars: number, shingleSize: number, maxChars: number): PromptIndex {
  const folded: string[] = [];
  const windows = new Map<number, number>();
  const shingles = new Map<string, number[]>();
  const shingleCounts: number[] = [];
  const top = power(minChars - 1);
  prompts.forEach((prompt, promptIndex) => {
    const text = foldForEcho(prompt.slice(0, Math.min(maxChars, OFFSET_SPAN - 1))).trim();
    folded.push(text);
    let hash = 0;
    for (let i = 0; i < text.length; i++) {
      if (i >= minChars) hash = (hash - Math.imul(text.charCodeAt(i - minChars), top)) | 0;
      hash = (Math.imul(hash, BASE) + text.charCodeAt(i)) | 0;
      if (i + 1 >= minChars) {
        const key = hash & KEY_MASK;
        if (!windows.has(key)) windows.set(key, promptIndex * OFFSET_SPAN + (i + 1 - minChars));
      }
    }
    const list = words(text);
    const own = new Set<string>();
    for (let i = 0; i + shingleSize <= list.length; i++) own.add(list.slice(i, i + shingleSize).join(" "));
    shingleCounts.push(own.size);
    for (const shingle of own) {
      const owners = shingles.get(shingle);
      if (owners === undefined) shingles.set(shingle, [promptIndex]);
      else owners.push(promptIndex);
    }
  });
  return { folded, windows, shingles, shingleCounts };
}

// Indexes are pure functions of (prompts, options): reuse them across responses that share a
// system prompt (the common case), bounded so a stream of distinct prompts cannot grow memory.
const indexCache = new Map<string, PromptIndex>();
const INDEX_CACHE_SIZE = 64;

function cachedIndex(prompts: readonly string[], minChars: number, shingleSize: number, maxChars: number): PromptIndex {
  const key = JSON.stringify([minChars, shingleSize, maxChars, prompts]);
  const hit = indexCache.get(key);
  if (hit !== undefined) {
    indexCache.delete(key);
    indexCache.set(key, hit);
    return hit;
  }
  const built = buildIndex(prompts, minChars, shingleSize, maxChars);
  indexCache.set(key, built);
  if (indexCache.size > INDEX_CACHE_SIZE) {
    const oldest = indexCache.keys().next().value;
    if (oldest !== undefined) indexCache.delete(oldest);
  }
  return built;
}

/** Creates a monitor for one response (one choice). */
export function createEchoMonitor(systemPrompts: readonly string[], options: EchoOptions = {}): EchoMonitor {
  const minChars = Math.max(8, options.minChars ?? 80);
  const shingleSize = Math.max(2, options.shingleSize ?? 8);
  const minCoverage = options.minShingleCoverage ?? 0.5;
  const minShingles = options.minShingles ?? 4;
  const index = cachedIndex(systemPrompts, minChars, shingleSize, options.maxPromptChars ?? 32_768);
  const top = power(minChars - 1);
  const seen = index.shingleCounts.map(() => new Set<string>());

  const ring = new Uint16Array(minChars); // the last minChars folded units, circular
  let seenUnits = 0; // folded units so far
  let hash = 0; // rolling hash of the last minChars units
  let run = 0; // consecutive window hits ending at the current position
  let pendingHigh = ""; // a high surrogate whose pair is in the next chunk
  let wordCarry = ""; // unfinished trailing text for the word tokenizer
  let recentWords: string[] = []; // last shingleSize-1 complete words
  let lastChar = " "; // last folded character emitted (a leading space is dropped too)
  const state: EchoVerdict = { echoed: false, longestMatch: 0, shingleCoverage: 0 };

  const addWords = (list: readonly string[]): void => {
    if (index.shingles.size === 0) return;
    const all = recentWords.concat(list);
    for (let i = 0; i + shingleSize <= all.length; i++) {
      const owners = index.shingles.get(all.slice(i, i + shingleSize).join(" "));
      if (owners === undefined) continue;
      for (const owner of owners) {
        const set = seen[owner];
        const total = index.shingleCounts[owner] ?? 0;
        if (set === undefined || total === 0) continue;
        set.add(all.slice(i, i + shingleSize).join(" "));
        const coverage = set.size / total;
        if (coverage > state.shingleCoverage) {
          state.shingleCoverage = coverage;
          if (state.longestMatch < minChars) state.promptIndex = owner;
        }
        if (!state.echoed && total >= minShingles && coverage >= minCoverage) {
          state.echoed = true;
          state.reason = "shingles";
          state.promptIndex = owner;
        }
      }
    }
    recentWords = all.slice(Math.max(0, all.length - (shingleSize - 1)));
  };

  const windowText = (): string => {
    let text = "";
    const start = seenUnits % minChars;
    for (let k = 0; k < minChars; k++) text += String.fromCharCode(ring[(start + k) % minChars] ?? 0);
    return text;
  };

  const scanWindows = (folded: string): void => {
    if (index.windows.size === 0) return;
    for (let i = 0; i < folded.length; i++) {
      const unit = folded.charCodeAt(i);
      const slot = seenUnits % minChars;
      if (seenUnits >= minChars) hash = (hash - Math.imul(ring[slot] ?? 0, top)) | 0;
      hash = (Math.imul(hash, BASE) + unit) | 0;
      ring[slot] = unit;
      seenUnits++;
      if (seenUnits < minChars) continue;
      const entry = index.windows.get(hash & KEY_MASK);
      let owner: number | undefined;
      if (entry !== undefined) {
        const promptIndex = Math.floor(entry / OFFSET_SPAN);
        const offset = entry % OFFSET_SPAN;
        if (index.folded[promptIndex]?.startsWith(windowText(), offset)) owner = promptIndex;
      }
      if (owner === undefined) {
        run = 0;
        continue;
      }
      run++;
      const length = minChars + run - 1;
      if (length > state.longestMatch) {
        state.longestMatch = length;
        state.promptIndex = owner;
      }
      if (!state.echoed) {
        state.echoed = true;
        state.reason = "substring";
        state.promptIndex = owner;
      }
    }
  };

  const snapshot = (): EchoVerdict => ({ ...state });

  return {
    push(delta: string): EchoVerdict {
      let text = pendingHigh + delta;
      pendingHigh = "";
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        pendingHigh = text.slice(-1);
        text = text.slice(0, -1);
      }
      if (text.length === 0) return snapshot();
      let folded = foldForEcho(text);
      // Whitespace collapses across chunk boundaries too.
      if (folded.startsWith(" ") && lastChar === " ") folded = folded.slice(1);
      if (folded.length === 0) return snapshot();
      lastChar = folded.slice(-1);
      scanWindows(folded);
      const pending = wordCarry + folded;
      const list = words(pending);
      // The last word may continue in the next chunk unless the text ends on a non-word character.
      const endsInWord = /[\p{L}\p{N}_]$/u.test(pending);
      if (endsInWord && list.length > 0) {
        const lastWord = list.pop() ?? "";
        wordCarry = pending.slice(pending.lastIndexOf(lastWord));
      } else wordCarry = "";
      addWords(list);
      return snapshot();
    },
    finish(): EchoVerdict {
      if (pendingHigh !== "") {
        const high = pendingHigh;
        pendingHigh = "";
        scanWindows(foldForEcho(high));
      }
      if (wordCarry !== "") {
        addWords(words(wordCarry));
        wordCarry = "";
      }
      return snapshot();
    },
    verdict: snapshot,
  };
}

/** Checks a complete output against the system prompts. */
export function checkEcho(systemPrompts: readonly string[], output: string, options: EchoOptions = {}): EchoVerdict {
  const monitor = createEchoMonitor(systemPrompts, options);
  monitor.push(output);
  return monitor.finish();
}
