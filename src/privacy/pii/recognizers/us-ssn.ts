import { ssnValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * US Social Security Numbers as AAA-GG-SSSS, AAA GG SSSS or nine bare digits, with the SSA's
 * structural rules (no 000/666/9xx area, 00 group or 0000 serial). Dashed numbers are likely SSNs
 * on their own; spaced or bare digits need a context word such as "SSN" or "social security".
 */
const ssnPattern = /(?<![0-9A-Za-z]|[0-9]-)[0-9]{3}([ -]?)[0-9]{2}\1[0-9]{4}(?![0-9A-Za-z]|-[0-9])/g;
const context = createContextMatcher([
  "ssn",
  "social security",
  "social",
  "security number",
  "ss#",
  "ssa",
  "taxpayer",
  "tin",
  "社会安全号",
  "社保号",
]);

export function createUsSsnRecognizer(): PiiRecognizer {
  return {
    name: "us-ssn",
    types: ["US_SSN"],
    find(text, out: PiiCandidate[]) {
      for (const match of text.matchAll(ssnPattern)) {
        const raw = match[0];
        const digits = raw.replace(/[^0-9]/g, "");
        if (!ssnValid(digits) || /^([0-9])\1{8}$/.test(digits)) continue;
        const start = match.index ?? 0;
        const end = start + raw.length;
        const near = context.near(text, start, end);
        const separator = match[1] ?? "";
        const score = separator === "-" ? (near ? 1 : 0.85) : separator === " " ? (near ? 0.9 : 0.4) : near ? 0.8 : 0.3;
        out.push({ type: "US_SSN", start, end, score });
      }
    },
  };
}
