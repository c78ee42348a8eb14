import { cnRegionCodePlausible, usccOrgCodeValid, usccValid } from "../checksums.js";
import { createContextMatcher } from "../context.js";
import type { PiiCandidate } from "../types.js";

/**
 * Unified social credit codes (统一社会信用代码, GB 32100-2015): registration authority, entity
 * kind, 6-digit region code, 9-character organisation code, GB 32100 check character. The check
 * character is required; a plausible region code and a valid GB 11714 organisation-code check
 * raise the score. A code that is also a valid resident ID is left to that recognizer's higher score.
 */
const usccShape = /^[1-9ANY][1-59][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
const context = createContextMatcher([
  "统一社会信用代码",
  "信用代码",
  "社会信用",
  "纳税人识别号",
  "税号",
  "营业执照",
  "企业代码",
  "uscc",
  "credit code",
  "business license",
  "tax id",
]);

/** `code` is an isolated 18-character run at `start` of `text`; pushes it when it is a valid USCC. */
export function findUscc(text: string, code: string, start: number, out: PiiCandidate[]): void {
  if (!usccShape.test(code) || !usccValid(code)) return;
  const end = start + 18;
  let score = 0.7;
  if (cnRegionCodePlausible(code.slice(2, 8))) score += 0.1;
  if (usccOrgCodeValid(code)) score += 0.1;
  if (context.near(text, start, end)) score += 0.2;
  out.push({ type: "CN_USCC", start, end, score: Math.min(1, score) });
}
