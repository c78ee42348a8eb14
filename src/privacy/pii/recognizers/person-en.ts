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
  /**
   * The word as the lookup sets hold it: capitalised ("Smith", "Mcdonald", "O'brien"). Most tokens
   * already are, so only the rare ones with an inner capital are re-cased (this runs for every
   * capitalised word of the text: no allocation on the common path).
   */
  key: string;
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
const capitalisedSet = (words: Iterable<string>): ReadonlySet<string> => new Set(Array.from(words, capitalise));

/** The lookup sets, keyed like Token.key. */
const titleKeys = capitalisedSet(titles);
const nonNameKeys = capitalisedSet(capitalisedNonNames);
const ambiguousKeys = capitalisedSet(ambiguousEnglishFirstNames);
const surnameKeys = capitalisedSet(commonEnglishSurnames);
let firstNameKeys: ReadonlySet<string> | undefined;

function tokenKey(word: string): string {
  for (let index = 1; index < word.length; index++) {
    const code = word.charCodeAt(index);
    if (code < 97 || code > 122) return capitalise(word);
  }
  return word;
}

export function createEnglishPersonRecognizer(): PiiRecognizer {
  firstNameKeys ??= capitalisedSet(englishFirstNames());
  const firstNames = firstNameKeys;
  return {
    name: "person-en",
    types: ["PERSON"],
    find(text, out: PiiCandidate[]) {
      const tokens = tokenize(text);
      let index = 0;
      while (index < tokens.length) {
        const token = tokens[index] as Token;
        const consumed =
          (titleKeys.has(token.key) ? fromTitle(text, tokens, index, out) : 0) ||
          (firstNames.has(token.key) && !nonNameKeys.has(token.key)
            ? fromFirstName(text, tokens, index, firstNames, out)
            : 0) ||
          fromCue(text, tokens, index, out) ||
          fromSurname(text, tokens, index, out);
        index += consumed > 0 ? consumed : 1;
      }
    },
  };
}

const isTokenChar = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 39 || code === 45 || code === 0x2019;

/**
 * The capitalised words of the text. `test` instead of `exec`: no match object per word (there are
 * tens of thousands per megabyte of prose). A match's start is found by walking back from its end
 * over word characters, which stops exactly where the pattern's lookbehind does.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = new RegExp(tokenPattern.source, "g");
  while (pattern.test(text)) {
    const end = pattern.lastIndex;
    let start = end - 1;
    while (start > 0 && isTokenChar(text.charCodeAt(start - 1))) start--;
    const word = text.slice(start, end);
    tokens.push({ start, end, word, key: tokenKey(word) });
  }
  return tokens;
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
    if (nonNameKeys.has(token.key) || titleKeys.has(token.key)) break;
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
  if (!/^\.? $/.test(gap) || nonNameKeys.has(first.key)) return 0;
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
  const ambiguous = ambiguousKeys.has(first.key);
  const cue = hasCue(text, first.start, last.end);
  if (extra > 0) {
    const surnameKnown = surnameKeys.has(last.key) || firstNames.has(last.key);
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
  if (first.word.length < 2 || nonNameKeys.has(first.key)) return 0;
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
  // Position checks first: they reject almost every token without a set lookup.
  if (!second || second.start !== first.end + 1 || text.charCodeAt(first.end) !== 32 || first.word.length < 2) return 0;
  if (!surnameKeys.has(second.key) || nonNameKeys.has(first.key) || nonNameKeys.has(second.key)) return 0;
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

const cueLastLetters = new Set(Array.from(strongCueLastWords, (word) => word.charCodeAt(word.length - 1)));

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
  // Every cue word ends in one of these letters: most words are rejected before any slicing.
  if (end - begin < 2 || !cueLastLetters.has(text.charCodeAt(end - 1) | 32)) return false;
  if (!strongCueLastWords.has(text.slice(begin, end).toLowerCase())) return false;
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
