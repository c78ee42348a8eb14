import { ibanLengths, ibanValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import { isAsciiAlnum } from "../scan.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * IBANs: country code, two check digits, then the BBAN, compact or in groups of four separated by
 * single spaces. The scan takes exactly the country's length in alphanumerics (so a word after the
 * IBAN is not swallowed) and validates with ISO 7064 MOD 97-10. Invalid ones are dropped.
 */
const startPattern = /(?<![0-9A-Za-z])[A-Z]{2}[0-9]{2}(?=[ ]?[0-9A-Z])/g;
const context = createContextMatcher([
  "iban",
  "account",
  "bank",
  "transfer",
  "wire",
  "sepa",
  "账户",
  "账号",
  "银行",
  "汇款",
  "转账",
]);

export function createIbanRecognizer(): PiiRecognizer {
  return {
    name: "iban",
    types: ["IBAN_CODE"],
    find(text, out: PiiCandidate[]) {
      for (const match of text.matchAll(startPattern)) {
        const start = match.index ?? 0;
        const length = ibanLengths[match[0].slice(0, 2)];
        if (length === undefined) continue;
        let collected = "";
        let index = start;
        while (index < text.length && collected.length < length) {
          const code = text.charCodeAt(index);
          if (isAsciiAlnum(code)) collected += text[index];
          else if (code === 32 && collected.length % 4 === 0 && isAsciiAlnum(text.charCodeAt(index + 1))) {
            // a space only between groups of four
          } else break;
          index++;
        }
        if (collected.length !== length || isAsciiAlnum(text.charCodeAt(index))) continue;
        if (!ibanValid(collected)) continue;
        out.push({ type: "IBAN_CODE", start, end: index, score: context.near(text, start, index) ? 1 : 0.95 });
      }
    },
  };
}
