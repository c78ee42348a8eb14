/** The PII entity types of CONTRACT.md (`modelport pii detect`). More may be added later. */
export const piiEntityTypes = [
  "EMAIL_ADDRESS",
  "PHONE_NUMBER",
  "CREDIT_CARD",
  "IBAN_CODE",
  "US_SSN",
  "IP_ADDRESS",
  "URL",
  "PERSON",
  "CN_RESIDENT_ID",
  "CN_USCC",
  "SECRET",
] as const;

export type PiiEntityType = (typeof piiEntityTypes)[number];

export function isPiiEntityType(value: string): value is PiiEntityType {
  return (piiEntityTypes as readonly string[]).includes(value);
}

/**
 * One detected entity. `start`/`end` are JavaScript string indices (UTF-16 code units), `end`
 * exclusive, so `text.slice(start, end) === finding.text`. `score` is in [0, 1].
 */
export interface PiiFinding {
  type: PiiEntityType;
  start: number;
  end: number;
  score: number;
  text: string;
}

/** What a recognizer reports before thresholds and overlap resolution. */
export interface PiiCandidate {
  type: PiiEntityType;
  start: number;
  end: number;
  score: number;
}

/**
 * A recognizer finds candidates of one family of types in the whole text. It must run in time
 * linear in the text length: bounded quantifiers, no nested quantifiers, or hand-written scans.
 */
export interface PiiRecognizer {
  readonly name: string;
  readonly types: readonly PiiEntityType[];
  find(text: string, out: PiiCandidate[]): void;
}
