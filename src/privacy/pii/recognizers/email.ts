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
        const local = text.slice(start, at);
        const domain = text.slice(at + 1, end);
        if (local.length > 0 && !local.endsWith(".") && !local.includes("..") && validDomain(domain)) {
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

function validDomain(domain: string): boolean {
  const labels = domain.split(".");
  if (labels.length < 2 || labels.length > 127) return false;
  const tld = labels[labels.length - 1] ?? "";
  if (!/^[A-Za-z]{2,24}$/.test(tld)) return false;
  return labels.every(
    (label) => label.length >= 1 && label.length <= 63 && !label.startsWith("-") && !label.endsWith("-"),
  );
}
