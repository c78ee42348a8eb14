/**
 * Text folding for the guards: one pass over the code points that makes matching robust against
 * cheap obfuscation while keeping a map back to the caller's UTF-16 offsets.
 *
 *   - NFKC per code point (fullwidth "ｉｇｎｏｒｅ" becomes "ignore", ligatures split), then lowercase;
 *   - invisible characters (zero-width, bidi controls, soft hyphen, variation selectors) dropped,
 *     so "ig\u200Bnore" still reads "ignore"; they are counted for the unicode-obfuscation signal;
 *   - Unicode tag characters (U+E0020-U+E007E, "ASCII smuggling") decoded to the ASCII they hide,
 *     so an instruction written in tags is scanned like any other text;
 *   - whitespace runs collapsed to one character ("\n" if the run held a line break, else " "),
 *     so the detector's patterns use a single `\s` and never a quantified one.
 *
 * Per code point, not per string, so every folded unit maps to exactly one source code point.
 */

/** Counts of the invisible characters found, by kind. */
export interface InvisibleCounts {
  /** Zero-width space/joiners, word joiner, BOM inside the text, soft hyphen, Mongolian vowel separator. */
  zeroWidth: number;
  /** ZWJ/ZWNJ: legitimate in emoji sequences and some scripts, so counted apart. */
  joiners: number;
  /** Bidi embedding/override/isolate controls (U+202A-202E, U+2066-2069). */
  bidi: number;
  /** Unicode tag characters (U+E0000-U+E007F). */
  tags: number;
  /** Variation selectors (U+FE00-FE0F, U+E0100-E01EF). Common after emoji; informational. */
  variationSelectors: number;
  /** LRM/RLM/ALM marks: normal in right-to-left text; informational. */
  directionMarks: number;
}

export interface FoldedText {
  /** The folded text. */
  text: string;
  /** For each UTF-16 unit of `text`, the source offset of the code point it came from. */
  sourceStart: Int32Array;
  /** For each UTF-16 unit of `text`, the source offset just past that code point. */
  sourceEnd: Int32Array;
  invisible: InvisibleCounts;
  /** The decoded payload of tag characters, if any (already part of `text`). */
  tagPayload: string;
}

type Kind = "zeroWidth" | "joiners" | "bidi" | "variationSelectors" | "directionMarks";

function invisibleKind(cp: number): Kind | undefined {
  if (cp === 0x200b || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad || cp === 0x180e) return "zeroWidth";
  if (cp >= 0x2061 && cp <= 0x2064) return "zeroWidth";
  if (cp === 0x200c || cp === 0x200d) return "joiners";
  if (cp === 0x200e || cp === 0x200f || cp === 0x061c) return "directionMarks";
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return "bidi";
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return "variationSelectors";
  return undefined;
}

function isWhitespace(cp: number): boolean {
  return (
    cp === 0x20 ||
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** Code points NFKC leaves alone and lowercase leaves alone, skipped for speed (CJK, kana, Hangul). */
function isStableNonAscii(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0xac00 && cp <= 0xd7a3);
}

/** Folds one non-ASCII, non-invisible, non-space code point (NFKC, then lowercase). */
function foldCodePoint(cp: number): string {
  // Fullwidth ASCII (U+FF01-FF5E) is NFKC'd to ASCII by a fixed offset; skip normalize() for it.
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCharCode(cp - 0xfee0).toLowerCase();
  const raw = String.fromCodePoint(cp);
  if (isStableNonAscii(cp)) return raw;
  return raw.normalize("NFKC").toLowerCase();
}

/**
 * Folds at most `maxChars` UTF-16 units of `source` (a cut never splits a surrogate pair).
 */
export function foldText(source: string, maxChars = Number.POSITIVE_INFINITY): FoldedText {
  const limit = Math.min(source.length, maxChars);
  const units: string[] = [];
  // Worst case NFKC expands one code point to a handful of units; grow on demand.
  let starts = new Int32Array(limit + 16);
  let ends = new Int32Array(limit + 16);
  let length = 0;
  const invisible: InvisibleCounts = {
    zeroWidth: 0,
    joiners: 0,
    bidi: 0,
    tags: 0,
    variationSelectors: 0,
    directionMarks: 0,
  };
  let tagPayload = "";
  let pendingSpace: string | undefined;
  let pendingSpaceStart = 0;
  let pendingSpaceEnd = 0;

  const push = (piece: string, start: number, end: number): void => {
    if (length + piece.length > starts.length) {
      const grown = Math.max(starts.length * 2, length + piece.length + 16);
      const s = new Int32Array(grown);
      s.set(starts);
      starts = s;
      const e = new Int32Array(grown);
      e.set(ends);
      ends = e;
    }
    units.push(piece);
    for (let k = 0; k < piece.length; k++) {
      starts[length] = start;
      ends[length] = end;
      length++;
    }
  };
  const flushSpace = (): void => {
    if (pendingSpace === undefined) return;
    push(pendingSpace, pendingSpaceStart, pendingSpaceEnd);
    pendingSpace = undefined;
  };

  // Fast path: printable ASCII words separated by single spaces, lowercased in one slice. The
  // pattern is linear (the separator is a literal the runs cannot contain).
  const asciiRun = /[\x21-\x7e]+(?: [\x21-\x7e]+)*/y;
  let i = 0;
  while (i < limit) {
    const unit = source.charCodeAt(i);
    if (unit > 0x20 && unit < 0x7f) {
      asciiRun.lastIndex = i;
      const run = asciiRun.exec(source);
      if (run !== null) {
        const end = Math.min(i + run[0].length, limit);
        flushSpace();
        const piece = source.slice(i, end).toLowerCase();
        const at = length;
        push(piece, 0, 0);
        for (let k = 0; k < piece.length; k++) {
          starts[at + k] = i + k;
          ends[at + k] = i + k + 1;
        }
        i = end;
        continue;
      }
    }
    const cp = source.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    if (cp > 0xffff && i + 1 >= limit) break; // the cap falls inside a surrogate pair
    const start = i;
    const end = i + width;
    i = end;
    if (cp < 0x80 && !isWhitespace(cp)) {
      flushSpace();
      push(cp >= 0x41 && cp <= 0x5a ? String.fromCharCode(cp + 32) : String.fromCharCode(cp), start, end);
      continue;
    }
    if (isWhitespace(cp)) {
      const isBreak = cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029 || cp === 0x85;
      if (pendingSpace === undefined) {
        pendingSpace = isBreak ? "\n" : " ";
        pendingSpaceStart = start;
      } else if (isBreak) {
        pendingSpace = "\n";
      }
      pendingSpaceEnd = end;
      continue;
    }
    if (cp >= 0xe0000 && cp <= 0xe007f) {
      invisible.tags++;
      if (cp >= 0xe0020 && cp <= 0xe007e) {
        const ascii = String.fromCharCode(cp - 0xe0000);
        tagPayload += ascii;
        flushSpace();
        push(ascii.toLowerCase(), start, end);
      }
      continue;
    }
    const kind = invisibleKind(cp);
    if (kind !== undefined) {
      // A leading BOM is a file artefact, not obfuscation.
      if (!(cp === 0xfeff && start === 0)) invisible[kind]++;
      continue;
    }
    flushSpace();
    push(foldCodePoint(cp), start, end);
  }
  flushSpace();
  return {
    text: units.join(""),
    sourceStart: starts.subarray(0, length),
    sourceEnd: ends.subarray(0, length),
    invisible,
    tagPayload,
  };
}

/** Maps a [start, end) range of folded text back to source offsets. */
export function toSourceRange(folded: FoldedText, start: number, end: number): { start: number; end: number } {
  const last = Math.max(start, end - 1);
  return { start: folded.sourceStart[start] ?? 0, end: folded.sourceEnd[last] ?? folded.sourceStart[start] ?? 0 };
}
