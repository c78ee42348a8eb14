import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Phone numbers. One linear regex finds digit runs with phone separators; each run is split into
 * its digit groups and the longest run of groups that classifies wins:
 *   - international (+CC or 00CC): validated by libphonenumber-js with full metadata;
 *   - Chinese mobile 1[3-9]x xxxx xxxx (optionally +86): the MIIT prefix ranges;
 *   - Chinese landline 0AA(A)-NNNNNNN(N);
 *   - North American (NXX) NXX-XXXX: area and exchange rules, checked here because libphonenumber
 *     costs ~30-50 µs a call and digit runs are common in text.
 * Bare digit runs without formatting only count with a context word ("phone", 电话, 手机 …).
 */
const candidatePattern = /(?<![0-9A-Za-z+_])(?:\+|00)?\(?[0-9][0-9 ().\-\u00a0]{5,22}[0-9](?![0-9A-Za-z])/g;
const context = createContextMatcher([
  "phone",
  "telephone",
  "tel",
  "mobile",
  "cell",
  "call",
  "fax",
  "whatsapp",
  "contact",
  "reach",
  "text me",
  "number",
  "电话",
  "手机",
  "手机号",
  "联系",
  "致电",
  "拨打",
  "来电",
  "号码",
  "座机",
  "微信",
]);

const cnMobile = /^1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-35-9])[0-9]{8}$/;
// Area codes: 010 and 02X are three digits, the others 0[3-9]XX four; local numbers start 2-8.
const cnLandline = /^(?:0(?:10|2[0-9])[2-8][0-9]{7}|0[3-9][0-9]{2}[2-8][0-9]{6,7})$/;

/**
 * libphonenumber's validation costs ~20 µs a call and the same numbers recur in logs, mail threads
 * and signatures: remember the last verdicts (bounded; cleared when full, so memory stays small).
 */
const validationMemo = new Map<string, boolean>();
const validationMemoSize = 4_096;

function validInternational(international: string): boolean {
  let valid = validationMemo.get(international);
  if (valid === undefined) {
    valid = parsePhoneNumberFromString(international)?.isValid() === true;
    if (validationMemo.size >= validationMemoSize) validationMemo.clear();
    validationMemo.set(international, valid);
  }
  return valid;
}

interface Group {
  start: number;
  end: number;
  digits: number;
}

interface Classification {
  score: number;
}

export function createPhoneRecognizer(): PiiRecognizer {
  return {
    name: "phone",
    types: ["PHONE_NUMBER"],
    find(text, out: PiiCandidate[]) {
      for (const match of text.matchAll(candidatePattern)) {
        const raw = match[0];
        // Cheap rejection first: without a "+"/"00" prefix a phone has 10 to 12 digits.
        // Dotted runs with three or more dots are addresses and versions (194.125.145.45, 5.1.1.6),
        // and a long bare run is a timestamp or an ID (20020731115338).
        let digitCount = 0;
        let dots = 0;
        let others = 0;
        for (let index = 0; index < raw.length; index++) {
          const code = raw.charCodeAt(index);
          if (code >= 48 && code <= 57) digitCount++;
          else if (code === 46) dots++;
          else others++;
        }
        const prefixed = raw.charCodeAt(0) === 43 || raw.startsWith("00");
        if (digitCount < (prefixed ? 8 : 10)) continue;
        if (dots >= 3 && others === 0 && !prefixed) continue;
        if (digitCount === raw.length && digitCount > 12 && !prefixed) continue;
        const base = match.index ?? 0;
        const groups = splitGroups(raw, base);
        let first = 0;
        while (first < groups.length) {
          const found = longestPhone(text, groups, first);
          if (found === undefined) {
            first++;
            continue;
          }
          out.push({ type: "PHONE_NUMBER", start: found.start, end: found.end, score: found.score });
          first = found.nextGroup;
        }
      }
    },
  };
}

/** Digit groups of a candidate; a "+" or "(" belongs to the group it opens. */
function splitGroups(value: string, base: number): Group[] {
  const groups: Group[] = [];
  const pattern = /(?:\+|\()?[0-9]+\)?/g;
  for (const match of value.matchAll(pattern)) {
    const start = base + (match.index ?? 0);
    const digits =
      match[0].length -
      (match[0].startsWith("+") || match[0].startsWith("(") ? 1 : 0) -
      (match[0].endsWith(")") ? 1 : 0);
    groups.push({ start, end: start + match[0].length, digits });
  }
  return groups;
}

function longestPhone(
  text: string,
  groups: Group[],
  first: number,
): { start: number; end: number; score: number; nextGroup: number } | undefined {
  const startGroup = groups[first];
  if (startGroup === undefined) return undefined;
  // A number may start or end inside a longer digit run only where the gap differs from the
  // separators inside it: "3589 0585 5170 3309" is one number (a card), not "3589" + a landline,
  // while "13812345678 192.168.0.1" is a phone and an address.
  const gapBefore = first === 0 ? "" : text.slice((groups[first - 1] as Group).end, startGroup.start);
  // Digit totals first: most digit runs in text (dates, times, amounts) are rejected here cheaply.
  let total = 0;
  const last0 = Math.min(groups.length - 1, first + 7);
  for (let index = first; index <= last0; index++) total += (groups[index] as Group).digits;
  for (let last = last0; last >= first; last--) {
    const endGroup = groups[last] as Group;
    const digitCount = total;
    total -= endGroup.digits;
    if (digitCount < 7 || digitCount > 15) continue;
    const next = groups[last + 1];
    const gapAfter = next === undefined ? "" : text.slice(endGroup.end, next.start);
    const inner = text.slice(startGroup.start, endGroup.end);
    if ((gapBefore.length === 1 && inner.includes(gapBefore)) || (gapAfter.length === 1 && inner.includes(gapAfter)))
      continue;
    const international = text.charCodeAt(startGroup.start) === 43 || text.startsWith("00", startGroup.start);
    if (!international && digitCount !== 10 && digitCount !== 11 && digitCount !== 12) continue;
    let start = startGroup.start;
    let end = endGroup.end;
    // An unbalanced bracket at either end belongs to the sentence.
    const raw = text.slice(start, end);
    if (raw.startsWith("(") && !raw.includes(")")) start++;
    if (raw.endsWith(")") && !raw.includes("(")) end--;
    const classified = classify(text, start, end);
    if (classified) return { start, end, score: classified.score, nextGroup: last + 1 };
  }
  return undefined;
}

function classify(text: string, start: number, end: number): Classification | undefined {
  const raw = text.slice(start, end);
  const digits = raw.replace(/[^0-9]/g, "");
  const separators = raw.replace(/[0-9+]/g, "");
  const hasContext = () => context.near(text, start, end);
  if (raw.startsWith("+") || (raw.startsWith("00") && digits.length >= 10)) {
    if (digits.length < 8 || digits.length > 15) return undefined;
    const international = `+${raw.startsWith("+") ? digits : digits.slice(2)}`;
    if (international.startsWith("+86") && cnMobile.test(international.slice(3)))
      return { score: hasContext() ? 1 : 0.9 };
    if (validInternational(international)) return { score: hasContext() ? 1 : 0.85 };
    return undefined;
  }
  // Chinese mobile: contiguous or grouped 3-4-4.
  if (
    digits.length === 11 &&
    cnMobile.test(digits) &&
    (separators === "" || /^1[0-9]{2}[ -][0-9]{4}[ -][0-9]{4}$/.test(raw))
  ) {
    return { score: hasContext() ? 0.95 : 0.6 };
  }
  if (
    digits.startsWith("0") &&
    cnLandline.test(digits) &&
    /^\(?0[0-9]{2,3}\)?[ -]?[0-9]{3,4}[ -]?[0-9]{4}$/.test(raw)
  ) {
    return { score: hasContext() ? 0.9 : 0.6 };
  }
  const nanp =
    /^(?:\+?1[ .-]?)?(?:\(([2-9][0-8][0-9])\) ?|([2-9][0-8][0-9])([ .-]?))([2-9][0-9]{2})([ .-]?)([0-9]{4})$/.exec(raw);
  if (nanp) {
    const area = nanp[1] ?? nanp[2] ?? "";
    const exchange = nanp[4] ?? "";
    if (/^[2-9]11$/.test(area) || /^[2-9]11$/.test(exchange)) return undefined;
    const sep1 = nanp[3] ?? "";
    const sep2 = nanp[5] ?? "";
    const formatted = nanp[1] !== undefined ? true : sep1 !== "" && sep1 === sep2;
    if (formatted) return { score: hasContext() ? 0.95 : 0.7 };
    if (sep1 === "" && sep2 === "" && hasContext()) return { score: 0.75 };
  }
  return undefined;
}
