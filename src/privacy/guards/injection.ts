import { type FoldedText, foldText, toSourceRange } from "./fold-text.js";
import { computedSignalWeights, type InjectionSignalName, patternRules } from "./injection-signals.js";

export { type InjectionSignalName, injectionSignalNames } from "./injection-signals.js";

/** One signal that fired. `match` is in the caller's text, as UTF-16 offsets [start, end). */
export interface InjectionSignal {
  name: InjectionSignalName;
  weight: number;
  match?: { start: number; end: number };
  /** Which rule of the signal fired (short human description). */
  note?: string;
}

export interface InjectionResult {
  /** Noisy-OR of the signals' weights: 1 - Π(1 - w). 0 when nothing fired. */
  score: number;
  /** At most one entry per signal name: its strongest evidence. Sorted by weight, strongest first. */
  signals: InjectionSignal[];
  /** True when the input was longer than `maxChars` and only its head was scanned. */
  truncated: boolean;
}

export interface InjectionOptions {
  /** Scan at most this many UTF-16 units (default 262144). Caps (caps.ts) bound input size anyway. */
  maxChars?: number;
  /** Per-signal weight overrides in [0, 1]; 0 switches a signal off. */
  weights?: Partial<Record<InjectionSignalName, number>>;
}

const DEFAULT_MAX_CHARS = 262_144;
const MAX_DECODE_DEPTH = 1;
const MAX_BLOBS = 16;
/** Decode at most this much of one blob, and this much over all blobs: bounds the nested scan. */
const MAX_BLOB_CHARS = 32_768;
const MAX_DECODED_TOTAL = 65_536;

/** Combines independent evidence: 1 - Π(1 - w). Monotone: another signal never lowers it. */
export function noisyOr(weights: Iterable<number>): number {
  let keep = 1;
  for (const weight of weights) keep *= 1 - Math.min(1, Math.max(0, weight));
  return 1 - keep;
}

/**
 * Scores `text` for prompt injection. Pure and synchronous; never throws on any string input.
 * The score is evidence, not a decision: guard-policy.ts compares it with the policy threshold.
 */
export function detectInjection(text: string, options: InjectionOptions = {}): InjectionResult {
  return detect(text, options, 0);
}

function detect(text: string, options: InjectionOptions, depth: number): InjectionResult {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const truncated = text.length > maxChars;
  const folded = foldText(text, maxChars);
  const source = truncated ? text.slice(0, maxChars) : text;
  const best = new Map<InjectionSignalName, InjectionSignal>();
  const fire = (signal: InjectionSignal): void => {
    const override = options.weights?.[signal.name];
    const weight = override === undefined ? signal.weight : Math.min(signal.weight, override);
    if (weight <= 0) return;
    const current = best.get(signal.name);
    if (current === undefined || weight > current.weight) best.set(signal.name, { ...signal, weight });
  };

  const matchedRanges: { start: number; end: number }[] = [];
  for (const rule of patternRules) {
    rule.pattern.lastIndex = 0;
    const match = rule.pattern.exec(folded.text);
    if (match === null) continue;
    const range = toSourceRange(folded, match.index, match.index + match[0].length);
    matchedRanges.push(range);
    fire({ name: rule.signal, weight: rule.weight, match: range, note: rule.note });
  }

  for (const signal of exfiltrationSignals(folded)) fire(signal);
  for (const signal of obfuscationSignals(folded, source, matchedRanges)) fire(signal);
  if (depth < MAX_DECODE_DEPTH) {
    for (const signal of encodedSignals(source, options, depth)) fire(signal);
  }

  const signals = [...best.values()].sort((a, b) => b.weight - a.weight);
  return { score: noisyOr(signals.map((signal) => signal.weight)), signals, truncated };
}

// --- exfiltration-url -------------------------------------------------------------------------

// `[` and `]` are both excluded from the label class, so a run of `[` fails at once (linear).
const MARKDOWN_LINK = /(!?)\[[^[\]\n]{0,300}\]\(\s?<?(https?:\/\/[^\s)>]{1,2048})/g;
const HTML_IMAGE = /<img\s[^<>]{0,300}?src\s?=\s?["']?(https?:\/\/[^\s"'<>]{1,2048})/g;
const BARE_URL = /(?<![\w/])https?:\/\/[^\s)"'<>\]]{1,2048}/g;
// A placeholder the model is meant to fill with conversation data: `{chat_history}`, `[DATA]`,
// `<secret>`, `$PROMPT`, `%7Bdata%7D`. Ad-server macros (`[timestamp]`, `{cachebuster}`) do not
// name data, so they do not count: HTML e-mails pasted into a prompt are full of them.
const DATA_WORD =
  "(?:data|chat|history|conversation|convo|secret|password|passwd|key|token|prompt|messages?|summary|user|info|input|answer|response|content|email|name|memory|context|query|pii|credentials?|base64|encoded|here)";
const INNER = `[a-z0-9_ .-]{0,20}?${DATA_WORD}[a-z0-9_ .-]{0,20}`;
const TEMPLATE = new RegExp(`\\{${INNER}\\}|%7b${INNER}%7d|\\[${INNER}\\]|<${INNER}>|\\$\\{?${DATA_WORD}\\b`);
const DATA_PARAM =
  /[?&](?:q|d|p|c|data|secret|key|token|apikey|api_key|password|pwd|pass|chat|history|conversation|convo|prompt|msg|message|content|text|info|payload|exfil|leak|memo|email|ssn)=/;
const EXFIL_INSTRUCTION =
  /\b(?:append|add|include|insert|put|encode|embed|attach|send)\s[^.!?\n]{0,60}\b(?:conversation|chat|history|secret|password|api\skey|previous\smessages?|user'?s?\s(?:data|info|information|messages?)|system\sprompt|credentials?)\b[^.!?\n]{0,60}\s(?:to|in|into|inside|as)\s(?:the\s|this\s|a\s|an\s)?(?:url|link|query|image|parameter)/g;

function* exfiltrationSignals(folded: FoldedText): Generator<InjectionSignal> {
  const text = folded.text;
  for (const pattern of [MARKDOWN_LINK, HTML_IMAGE]) {
    pattern.lastIndex = 0;
    let match = pattern.exec(text);
    while (match !== null) {
      const url = pattern === MARKDOWN_LINK ? (match[2] ?? "") : (match[1] ?? "");
      const isImage = pattern === HTML_IMAGE || match[1] === "!";
      const range = toSourceRange(folded, match.index, match.index + match[0].length);
      if (TEMPLATE.test(url)) {
        yield {
          name: "exfiltration-url",
          weight: computedSignalWeights.exfiltrationTemplate,
          match: range,
          note: "markdown/HTML link with a template placeholder in its URL",
        };
      } else if (isImage && pattern === MARKDOWN_LINK && DATA_PARAM.test(url)) {
        yield {
          name: "exfiltration-url",
          weight: computedSignalWeights.exfiltrationQuery,
          match: range,
          note: "markdown image whose query carries data",
        };
      }
      match = pattern.exec(text);
    }
  }
  BARE_URL.lastIndex = 0;
  let bare = BARE_URL.exec(text);
  while (bare !== null) {
    if (TEMPLATE.test(bare[0])) {
      yield {
        name: "exfiltration-url",
        weight: computedSignalWeights.exfiltrationBareTemplate,
        match: toSourceRange(folded, bare.index, bare.index + bare[0].length),
        note: "URL with a template placeholder",
      };
      break;
    }
    bare = BARE_URL.exec(text);
  }
  EXFIL_INSTRUCTION.lastIndex = 0;
  const instruction = EXFIL_INSTRUCTION.exec(text);
  if (instruction !== null) {
    yield {
      name: "exfiltration-url",
      weight: computedSignalWeights.exfiltrationInstruction,
      match: toSourceRange(folded, instruction.index, instruction.index + instruction[0].length),
      note: "instruction to put conversation data into a URL",
    };
  }
}

// --- unicode-obfuscation ----------------------------------------------------------------------

const ZERO_WIDTH_SOURCE = /[\u200B-\u200D\u2060-\u2064\u00AD\u180E]|(?<!^)\uFEFF/;
const ANY_HIDDEN = /[\u200B-\u200D\u2060-\u2064\u00AD\u180E\u202A-\u202E\u2066-\u2069]|\uDB40[\uDC00-\uDC7F]/;
const TAG_CHAR = /\uDB40[\uDC00-\uDC7F]/;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

function firstMatch(source: string, pattern: RegExp): { start: number; end: number } | undefined {
  const match = pattern.exec(source);
  return match === null ? undefined : { start: match.index, end: match.index + match[0].length };
}

function* obfuscationSignals(
  folded: FoldedText,
  source: string,
  matchedRanges: readonly { start: number; end: number }[],
): Generator<InjectionSignal> {
  const counts = folded.invisible;
  if (counts.tags > 0) {
    yield {
      name: "unicode-obfuscation",
      weight: computedSignalWeights.tagCharacters,
      match: firstMatch(source, TAG_CHAR),
      note: `${counts.tags} Unicode tag characters (hidden ASCII)`,
    };
  }
  if (counts.bidi > 0) {
    yield {
      name: "unicode-obfuscation",
      weight: computedSignalWeights.bidiControls,
      match: firstMatch(source, BIDI),
      note: `${counts.bidi} bidi override/isolate controls`,
    };
  }
  if (counts.zeroWidth >= 3) {
    yield {
      name: "unicode-obfuscation",
      weight: computedSignalWeights.zeroWidth,
      match: firstMatch(source, ZERO_WIDTH_SOURCE),
      note: `${counts.zeroWidth} zero-width characters`,
    };
  }
  // Invisible characters inside a phrase another signal matched: someone split the phrase on purpose.
  if (counts.zeroWidth + counts.joiners + counts.bidi + counts.tags > 0) {
    for (const range of matchedRanges) {
      const inside = firstMatch(source.slice(range.start, range.end), ANY_HIDDEN);
      if (inside !== undefined) {
        yield {
          name: "unicode-obfuscation",
          weight: computedSignalWeights.zeroWidthInMatch,
          match: { start: range.start + inside.start, end: range.start + inside.end },
          note: "invisible characters inside a matched injection phrase",
        };
        break;
      }
    }
  }
}

// --- encoded-payload --------------------------------------------------------------------------

// The lookbehind anchors each attempt at the start of a run, so scanning stays linear.
const BLOB = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}/g;
const HEX = /^(?:0x)?[0-9a-fA-F]+$/;

function decodeBlob(blob: string): string | undefined {
  let bytes: Buffer;
  const body = blob.startsWith("0x") ? blob.slice(2) : blob;
  if (HEX.test(blob) && body.length % 2 === 0) bytes = Buffer.from(body, "hex");
  else bytes = Buffer.from(blob.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  const decoded = bytes.toString("utf8");
  if (decoded.length < 8) return undefined;
  // Instructions are text: require most characters to be printable (binary images are not).
  let printable = 0;
  for (let i = 0; i < decoded.length; i++) {
    const unit = decoded.charCodeAt(i);
    if (
      (unit >= 0x20 && unit < 0x7f) ||
      unit === 0x0a ||
      unit === 0x0d ||
      unit === 0x09 ||
      (unit >= 0xa0 && unit !== 0xfffd)
    ) {
      printable++;
    }
  }
  return printable / decoded.length >= 0.9 ? decoded : undefined;
}

function* encodedSignals(source: string, options: InjectionOptions, depth: number): Generator<InjectionSignal> {
  BLOB.lastIndex = 0;
  let blobs = 0;
  let match = BLOB.exec(source);
  let budget = MAX_DECODED_TOTAL;
  while (match !== null && blobs < MAX_BLOBS && budget > 0) {
    blobs++;
    const blob = match[0].slice(0, Math.min(MAX_BLOB_CHARS, budget));
    budget -= blob.length;
    const decoded = decodeBlob(blob);
    if (decoded !== undefined) {
      const inner = detect(decoded, options, depth + 1);
      const strongest = inner.signals[0];
      if (strongest !== undefined && strongest.weight >= 0.5) {
        yield {
          name: "encoded-payload",
          weight: Math.min(computedSignalWeights.encodedPayload, Math.max(strongest.weight, inner.score)),
          match: { start: match.index, end: match.index + match[0].length },
          note: `encoded text that decodes to: ${inner.signals.map((signal) => signal.name).join(", ")}`,
        };
        return;
      }
    }
    match = BLOB.exec(source);
  }
}
