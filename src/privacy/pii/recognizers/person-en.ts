import {
  ambiguousEnglishFirstNames,
  capitalisedNonNames,
  commonEnglishSurnames,
  englishFirstNames,
} from "../names/english-names.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * English person names. Capitalised words are tokenised once (a bounded regex); then:
 *   - a title (Mr., Mrs., Ms., Dr., Prof. …) makes the next one to three capitalised words a name;
 *   - a first name from the name lists plus up to two following capitalised words (a middle initial
 *     allowed) is a full name; a known surname after it raises the score;
 *   - a lone first name counts unless it is also an everyday word ("Will", "May") or starts a
 *     sentence, where it needs a cue;
 *   - cues before ("my name is", "Dear", "contact", "signed") or after ("said", "wrote") raise the
 *     score and let unknown capitalised words ("Oluwaseun Adeyemi") count as a name.
 * The title itself is not part of the span.
 */
const tokenPattern =
  /(?<![A-Za-z0-9'’_-])[A-Z][a-z]{0,19}(?:[A-Z][a-z]{1,19})?(?:['’-][A-Z][a-z]{1,19})?(?![A-Za-z0-9_])/g;
const titles = new Set([
  "mr",
  "mrs",
  "ms",
  "miss",
  "mx",
  "dr",
  "prof",
  "professor",
  "sir",
  "dame",
  "madam",
  "mister",
  "lady",
  "lord",
]);
const cueBefore =
  /(?:\b(?:name is|name's|named|called|dear|hi|hello|hey|thanks|thank you|regards|sincerely|cheers|best|signed|contact|ask for|i'm|i am|this is|attn|attention|patient|customer|client|employee|applicant|tenant|user|passenger|cardholder|from|with|by|met|meet|told|asked|emailed|phoned|call|cc|to)\s{0,3}[:,-]?\s{0,3})$/i;
const cueAfter =
  /^(?:\s{0,2}(?:said|says|wrote|writes|told|asked|replied|explained|added|called|emailed|signed|joined|works|lives|is a|was a|will)\b|,\s{0,2}(?:who|our|the|a|an|aged|age)\b|'s\b|’s\b)/;

interface Token {
  start: number;
  end: number;
  word: string;
  lower: string;
}

export function createEnglishPersonRecognizer(): PiiRecognizer {
  const firstNames = englishFirstNames();
  return {
    name: "person-en",
    types: ["PERSON"],
    find(text, out: PiiCandidate[]) {
      const tokens: Token[] = [];
      for (const match of text.matchAll(tokenPattern)) {
        const start = match.index ?? 0;
        tokens.push({ start, end: start + match[0].length, word: match[0], lower: match[0].toLowerCase() });
      }
      let index = 0;
      while (index < tokens.length) {
        const token = tokens[index] as Token;
        const consumed =
          (titles.has(token.lower) ? fromTitle(text, tokens, index, out) : 0) ||
          (firstNames.has(token.lower) && !capitalisedNonNames.has(token.lower)
            ? fromFirstName(text, tokens, index, firstNames, out)
            : 0) ||
          fromCue(text, tokens, index, out) ||
          fromSurname(text, tokens, index, out);
        index += consumed > 0 ? consumed : 1;
      }
    },
  };
}

/** Tokens after `index` joined by a single space (or ". " after an initial), at most `max`. */
function followingNameTokens(text: string, tokens: Token[], index: number, max: number): number {
  let count = 0;
  let previous = tokens[index] as Token;
  for (let next = index + 1; next < tokens.length && count < max; next++) {
    const token = tokens[next] as Token;
    const gap = text.slice(previous.end, token.start);
    const initialGap = previous.word.length === 1 && gap === ". ";
    if (gap !== " " && !initialGap) break;
    if (capitalisedNonNames.has(token.lower) || titles.has(token.lower)) break;
    count++;
    previous = token;
  }
  return count;
}

function emit(out: PiiCandidate[], start: number, end: number, score: number): void {
  out.push({ type: "PERSON", start, end, score: Math.min(1, score) });
}

function fromTitle(text: string, tokens: Token[], index: number, out: PiiCandidate[]): number {
  const title = tokens[index] as Token;
  const first = tokens[index + 1];
  if (!first) return 0;
  const gap = text.slice(title.end, first.start);
  if (!/^\.? $/.test(gap) || capitalisedNonNames.has(first.lower)) return 0;
  const extra = followingNameTokens(text, tokens, index + 1, 2);
  const last = tokens[index + 1 + extra] as Token;
  emit(out, first.start, last.end, 0.9);
  return 2 + extra;
}

function fromFirstName(
  text: string,
  tokens: Token[],
  index: number,
  firstNames: ReadonlySet<string>,
  out: PiiCandidate[],
): number {
  const first = tokens[index] as Token;
  const extra = followingNameTokens(text, tokens, index, 2);
  const last = tokens[index + extra] as Token;
  const ambiguous = ambiguousEnglishFirstNames.has(first.lower);
  const cue = hasCue(text, first.start, last.end);
  if (extra > 0) {
    const surnameKnown = commonEnglishSurnames.has(last.lower) || firstNames.has(last.lower);
    const score = (ambiguous ? 0.6 : 0.8) + (surnameKnown ? 0.1 : 0) + (cue ? 0.15 : 0);
    emit(out, first.start, last.end, score);
    return 1 + extra;
  }
  const sentenceStart = startsSentence(text, first.start);
  let score = ambiguous ? 0.3 : sentenceStart ? 0.6 : 0.75;
  if (cue) score += ambiguous ? 0.3 : 0.2;
  emit(out, first.start, first.end, score);
  return 1;
}

/** A cue right before a capitalised run that no list knows: "My name is Oluwaseun Adeyemi". */
function fromCue(text: string, tokens: Token[], index: number, out: PiiCandidate[]): number {
  const first = tokens[index] as Token;
  if (capitalisedNonNames.has(first.lower) || first.word.length < 2) return 0;
  if (!strongCueBefore(text, first.start)) return 0;
  const extra = followingNameTokens(text, tokens, index, 2);
  const last = tokens[index + extra] as Token;
  emit(out, first.start, last.end, extra > 0 ? 0.8 : 0.7);
  return 1 + extra;
}

/** An unknown capitalised word followed by a known surname, not at a sentence start: "Priya Smith". */
function fromSurname(text: string, tokens: Token[], index: number, out: PiiCandidate[]): number {
  const first = tokens[index] as Token;
  const second = tokens[index + 1];
  if (!second || capitalisedNonNames.has(first.lower) || first.word.length < 2) return 0;
  if (second.start !== first.end + 1 || text.charCodeAt(first.end) !== 32 || !commonEnglishSurnames.has(second.lower)) {
    return 0;
  }
  if (capitalisedNonNames.has(second.lower)) return 0;
  const score = startsSentence(text, first.start) ? 0.55 : 0.7;
  emit(out, first.start, second.end, score + (hasCue(text, first.start, second.end) ? 0.15 : 0));
  return 2;
}

const strongCue =
  /(?:\b(?:name is|name's|named|called|dear|signed|attn|attention|patient|applicant|cardholder|passenger)\s{0,3}[:,-]?\s{0,3}|\b(?:i'm|i am|this is)\s)$/i;

/** The last word of every strong cue: a cheap check before the regex (runs for every capitalised word). */
const strongCueLastWords = new Set([
  "is",
  "named",
  "called",
  "dear",
  "signed",
  "attn",
  "attention",
  "patient",
  "applicant",
  "cardholder",
  "passenger",
  "i'm",
  "am",
  "name's",
]);

function strongCueBefore(text: string, start: number): boolean {
  let end = start;
  for (let code = text.charCodeAt(end - 1); end > 0 && end > start - 6; code = text.charCodeAt(end - 1)) {
    if (code !== 32 && code !== 10 && code !== 9 && code !== 58 && code !== 44 && code !== 45) break; // space \n \t : , -
    end--;
  }
  let begin = end;
  for (let code = text.charCodeAt(begin - 1); begin > 0 && end - begin < 12; code = text.charCodeAt(begin - 1)) {
    const letter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 39;
    if (!letter) break;
    begin--;
  }
  if (end - begin < 2 || !strongCueLastWords.has(text.slice(begin, end).toLowerCase())) return false;
  return strongCue.test(text.slice(Math.max(0, start - 24), start));
}

function hasCue(text: string, start: number, end: number): boolean {
  return cueBefore.test(text.slice(Math.max(0, start - 24), start)) || cueAfter.test(text.slice(end, end + 16));
}

function startsSentence(text: string, start: number): boolean {
  let index = start - 1;
  while (index >= 0 && (text[index] === " " || text[index] === '"' || text[index] === "“" || text[index] === "("))
    index--;
  if (index < 0) return true;
  const ch = text[index] ?? "";
  return (
    ch === "." || ch === "!" || ch === "?" || ch === "\n" || ch === "\r" || ch === ":" || ch === "。" || ch === "："
  );
}
