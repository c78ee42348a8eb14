import { cardNetwork, luhnValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Payment card numbers: 12-19 digits, contiguous or grouped with one kind of separator (space or
 * dash), a known network prefix (Visa, Mastercard, Amex, UnionPay 62, Discover, JCB, Diners,
 * Maestro) and a valid Luhn digit. Luhn failures are dropped. The lookarounds stop a match from
 * starting or ending inside a longer digit run, which also keeps the scan linear.
 */
const cardPattern = /(?<![0-9A-Za-z]|[0-9][ -])[0-9](?:[ -]?[0-9]){11,18}(?![0-9A-Za-z]|[ -][0-9])/g;
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
      for (const match of text.matchAll(cardPattern)) {
        const raw = match[0];
        const separators = new Set(raw.replace(/[0-9]/g, ""));
        if (separators.size > 1) continue; // "4111-1111 1111" mixes separators: not a card layout
        const digits = raw.replace(/[^0-9]/g, "");
        if (cardNetwork(digits) === undefined || !luhnValid(digits)) continue;
        const start = match.index ?? 0;
        const end = start + raw.length;
        // Contiguous digits of ID length are more often other identifiers; context settles it.
        const base = separators.size === 1 ? 0.9 : 0.8;
        out.push({ type: "CREDIT_CARD", start, end, score: context.near(text, start, end) ? 1 : base });
      }
    },
  };
}
