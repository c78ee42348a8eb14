import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * E-mail addresses. A hand-written scan from each '@' instead of one big regex: it looks left over
 * local-part characters (at most 64) and right over domain characters (at most 253), so the cost is
 * linear however many '@' or dots the input holds.
 */
const localChar = (code: number) =>
  (code >= 48 && code <= 57) ||
  (code >= 65 && code <= 90) ||
  (code >= 97 && code <= 122) ||
  code === 46 || // .
  code === 95 || // _
  code === 37 || // %
  code === 43 || // +
  code === 45; // -
const domainChar = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 46;

export function createEmailRecognizer(): PiiRecognizer {
  return {
    name: "email",
    types: ["EMAIL_ADDRESS"],
    find(text, out: PiiCandidate[]) {
      let at = text.indexOf("@");
      let consumedUntil = 0;
      while (at >= 0) {
        let start = at;
        while (start > consumedUntil && at - start < 64 && localChar(text.charCodeAt(start - 1))) start--;
        while (start < at && text.charCodeAt(start) === 46) start++; // no leading dot
        let end = at + 1;
        while (end < text.length && end - at <= 253 && domainChar(text.charCodeAt(end))) end++;
        // Trailing dots and hyphens are sentence punctuation, not part of the domain.
        while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
        if (validLocalPart(text, start, at) && validDomain(text, at + 1, end)) {
          // A well-formed address is PII whatever surrounds it, so no context lookup (e-mail is the
          // most frequent entity in logs and mail, and the lookup would dominate its cost).
          out.push({ type: "EMAIL_ADDRESS", start, end, score: 1 });
          consumedUntil = end;
        }
        at = text.indexOf("@", at + 1);
      }
    },
  };
}

/** Non-empty, no trailing dot and no ".." (a leading dot was already skipped). */
function validLocalPart(text: string, start: number, end: number): boolean {
  if (end <= start || text.charCodeAt(end - 1) === 46) return false;
  for (let index = start + 1; index < end; index++)
    if (text.charCodeAt(index) === 46 && text.charCodeAt(index - 1) === 46) return false;
  return true;
}

/**
 * text[start, end) has at least two dot-separated labels of 1-63 characters that neither start
 * nor end with "-", at most 127 labels, and a top-level label of 2-24 letters. One pass over the
 * characters (this runs for every "@" in the text, so no slicing, split or regex).
 */
function validDomain(text: string, start: number, end: number): boolean {
  let labels = 0;
  let labelStart = start;
  for (let index = start; index <= end; index++) {
    if (index < end && text.charCodeAt(index) !== 46) continue;
    const length = index - labelStart;
    if (length < 1 || length > 63) return false;
    if (text.charCodeAt(labelStart) === 45 || text.charCodeAt(index - 1) === 45) return false;
    labels++;
    if (index === end) {
      if (labels < 2 || labels > 127 || length > 24 || length < 2) return false;
      for (let k = labelStart; k < index; k++) {
        const code = text.charCodeAt(k);
        if (!((code >= 65 && code <= 90) || (code >= 97 && code <= 122))) return false;
      }
    }
    labelStart = index + 1;
  }
  return true;
}
