import { cnResidentIdValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate } from "../types.js";

/**
 * Chinese resident identity numbers (居民身份证号码): 18 characters, a plausible region code, a
 * real birth date and the GB 11643 MOD 11-2 check character (a digit or X). Anything failing the
 * check is dropped, so random 18-digit numbers are not reported. The scan for 18-character codes
 * is shared with the unified social credit code (cn-codes.ts); this checks one such code.
 */
const idShape = /^[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$/;
const context = createContextMatcher([
  "身份证",
  "身份证号",
  "证件号",
  "公民身份",
  "id card",
  "resident id",
  "identity",
  "id number",
  "chinese id",
  "id",
]);

/** `code` is an isolated 18-character run at `start` of `text`; pushes it when it is a valid ID. */
export function findResidentId(
  text: string,
  code: string,
  start: number,
  today: Date | undefined,
  out: PiiCandidate[],
) {
  if (!idShape.test(code) || !cnResidentIdValid(code, today)) return;
  const end = start + 18;
  out.push({ type: "CN_RESIDENT_ID", start, end, score: context.near(text, start, end) ? 1 : 0.95 });
}
