import { cardNetwork, luhnValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Payment card numbers: 12-19 digits, contiguous or grouped with one kind of separator (space or
 * dash), a known network prefix (Visa, Mastercard, Amex, UnionPay 62, Discover, JCB, Diners,
 * Maestro) and a valid Luhn digit. Luhn failures are dropped. The lookarounds stop a match from
 * starting or ending inside a longer digit run, which also keeps the scan linear.
 */
const cardPattern = /(?<![0-9A-Za-z]|[0-9]-)[0-9](?:[ -]?[0-9]){11,18}(?![0-9A-Za-z]|-[0-9])/g;
const context = createContextMatcher([
  "card",
  "credit",
  "debit",
  "visa",
  "mastercard",
  "amex",
  "american express",
  "unionpay",
  "discover",
  "jcb",
  "payment",
  "pay",
  "cc",
  "pan",
  "卡号",
  "信用卡",
  "银行卡",
  "借记卡",
  "储蓄卡",
  "银联",
  "付款",
  "支付",
]);

export function createCreditCardRecognizer(): PiiRecognizer {
  return {
    name: "credit-card",
    types: ["CREDIT_CARD"],
    find(text, out: PiiCandidate[]) {
      const pattern = new RegExp(cardPattern.source, "g");
      let retryAt = -1;
      for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
        const start = match.index;
        const value = longestValidPrefix(match[0]);
        if (value === undefined) {
          // "0.1 4111 1111 1111 1111": the match began with a stray group; retry from the next one.
          // Only once per run, so "1 1 1 1 …" stays linear.
          const firstGroup = start === retryAt ? null : /^[0-9]{1,3}[ -]/.exec(match[0]);
          if (firstGroup) {
            retryAt = start + firstGroup[0].length;
            pattern.lastIndex = retryAt;
          }
          continue;
        }
        const end = start + value.length;
        // Contiguous digits of ID length are more often other identifiers; context settles it.
        const base = /[ -]/.test(value) ? 0.9 : 0.8;
        out.push({ type: "CREDIT_CARD", start, end, score: context.near(text, start, end) ? 1 : base });
      }
    },
  };
}

/**
 * The match itself when it is a valid card, else its longest valid prefix ending at a group
 * boundary: "4111 1111 1111 1111 192.168.0.1" over-reaches into the next number by one group.
 */
function longestValidPrefix(raw: string): string | undefined {
  let separator = "";
  let digits = "";
  const groupEnds: number[] = []; // [index in raw, digit count] pairs, flattened
  for (let index = 0; index < raw.length; index++) {
    const ch = raw[index] as string;
    if (ch === " " || ch === "-") {
      if (separator !== "" && ch !== separator) return undefined; // "4111-1111 1111" mixes separators
      separator = ch;
      groupEnds.push(index, digits.length);
    } else digits += ch;
  }
  const valid = (value: string) => cardNetwork(value) !== undefined && luhnValid(value);
  if (valid(digits)) return raw;
  for (let pair = groupEnds.length - 2; pair >= 0; pair -= 2) {
    const count = groupEnds[pair + 1] as number;
    if (count < 12) break;
    if (valid(digits.slice(0, count))) return raw.slice(0, groupEnds[pair]);
  }
  return undefined;
}
