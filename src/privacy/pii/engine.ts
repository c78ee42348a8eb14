import { ModelportError } from "../../core/errors.js";
import { clampScore } from "./context.js";
import { resolveOverlaps } from "./overlap.js";
import { createCnCodeRecognizer } from "./recognizers/cn-codes.js";
import { createCreditCardRecognizer } from "./recognizers/credit-card.js";
import { createEmailRecognizer } from "./recognizers/email.js";
import { createIbanRecognizer } from "./recognizers/iban.js";
import { createIpRecognizer } from "./recognizers/ip.js";
import { createEnglishPersonRecognizer } from "./recognizers/person-en.js";
import { createChinesePersonRecognizer } from "./recognizers/person-zh.js";
import { createPhoneRecognizer } from "./recognizers/phone.js";
import { createSecretRecognizer } from "./recognizers/secrets.js";
import { createUrlRecognizer } from "./recognizers/url.js";
import { createUsSsnRecognizer } from "./recognizers/us-ssn.js";
import type { PiiCandidate, PiiEntityType, PiiFinding, PiiRecognizer } from "./types.js";

export const defaultPiiThreshold = 0.5;
/** Default cap on one input, in UTF-16 code units (about 1 MB of ASCII). Callers chunk larger text. */
export const defaultMaxInputLength = 1_000_000;

export interface PiiEngineOptions {
  /** Findings scoring below this are dropped (default 0.5). */
  threshold?: number;
  /** Longest accepted input in UTF-16 code units (default 1,000,000); longer input is an error. */
  maxInputLength?: number;
  /** Only these types are reported (default: all). */
  types?: readonly PiiEntityType[];
  /** Extra recognizers, run after the built-in ones. */
  recognizers?: readonly PiiRecognizer[];
  /** "Today" for birth-date checks (tests pin it). */
  today?: () => Date;
}

export interface DetectOptions {
  threshold?: number;
  types?: readonly PiiEntityType[];
}

export interface PiiEngine {
  /** Sorted, non-overlapping findings at or above the threshold. */
  detect(text: string, options?: DetectOptions): PiiFinding[];
  /** Every candidate before threshold and overlap resolution (for evaluation and debugging). */
  candidates(text: string): PiiCandidate[];
}

export function createPiiEngine(options: PiiEngineOptions = {}): PiiEngine {
  const maxInputLength = options.maxInputLength ?? defaultMaxInputLength;
  const baseThreshold = options.threshold ?? defaultPiiThreshold;
  const recognizers: PiiRecognizer[] = [
    createEmailRecognizer(),
    createUrlRecognizer(),
    createIpRecognizer(),
    createCreditCardRecognizer(),
    createIbanRecognizer(),
    createUsSsnRecognizer(),
    createCnCodeRecognizer(options.today),
    createPhoneRecognizer(),
    createSecretRecognizer(),
    createEnglishPersonRecognizer(),
    createChinesePersonRecognizer(),
    ...(options.recognizers ?? []),
  ];
  const engineTypes = options.types ? new Set(options.types) : undefined;

  const candidates = (text: string, types?: ReadonlySet<PiiEntityType>): PiiCandidate[] => {
    if (typeof text !== "string") throw new ModelportError("MP_INVALID_REQUEST", "PII detection needs a string");
    if (text.length > maxInputLength) {
      throw new ModelportError(
        "MP_BODY_TOO_LARGE",
        `text of ${text.length} characters is longer than the PII engine's limit of ${maxInputLength}; split it into chunks`,
      );
    }
    const out: PiiCandidate[] = [];
    for (const recognizer of recognizers) {
      if (types && !recognizer.types.some((type) => types.has(type))) continue;
      recognizer.find(text, out);
    }
    const wanted = types ? out.filter((candidate) => types.has(candidate.type)) : out;
    return dropInsideOperatorTokens(text, wanted);
  };

  return {
    candidates: (text) => candidates(text, engineTypes),
    detect(text, detectOptions = {}) {
      const threshold = detectOptions.threshold ?? baseThreshold;
      let types = engineTypes;
      if (detectOptions.types) {
        const requested = new Set(detectOptions.types);
        types = new Set([...(engineTypes ?? requested)].filter((type) => requested.has(type)));
      }
      // The candidates are this call's own objects: rescore them in place instead of copying
      // tens of thousands of them per megabyte.
      const kept: PiiCandidate[] = [];
      for (const candidate of candidates(text, types)) {
        candidate.score = clampScore(candidate.score);
        if (candidate.score >= threshold) kept.push(candidate);
      }
      return resolveOverlaps(kept).map(({ type, start, end, score }) => ({
        type,
        start,
        end,
        score,
        text: text.slice(start, end),
      }));
    },
  };
}

/** What the operators write: <TYPE>, <TYPE_3>, <TYPE:hex>, <TYPE:enc:base64url>. */
const operatorToken = /<[A-Z][A-Z0-9_]{0,40}(?::[A-Za-z0-9_:-]{1,8192})?>/g;

/**
 * Findings inside text the operators produced are dropped, so anonymizing anonymized text is a
 * no-op (a base64url token body can contain "Ab" or "sk-…" by chance).
 */
function dropInsideOperatorTokens(text: string, candidates: PiiCandidate[]): PiiCandidate[] {
  if (candidates.length === 0 || !text.includes("<")) return candidates;
  const tokens: [number, number][] = [];
  for (const match of text.matchAll(operatorToken))
    tokens.push([match.index ?? 0, (match.index ?? 0) + match[0].length]);
  if (tokens.length === 0) return candidates;
  return candidates.filter((candidate) => {
    // Binary search for the last token starting before the candidate's end.
    let low = 0;
    let high = tokens.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((tokens[middle] as [number, number])[0] < candidate.end) low = middle + 1;
      else high = middle;
    }
    const token = tokens[low - 1];
    return token === undefined || token[1] <= candidate.start;
  });
}

let shared: PiiEngine | undefined;

/** A process-wide engine with the default options (recognizers are stateless, so sharing is safe). */
export function defaultPiiEngine(): PiiEngine {
  shared ??= createPiiEngine();
  return shared;
}
