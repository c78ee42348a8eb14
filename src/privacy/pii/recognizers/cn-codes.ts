import type { PiiCandidate, PiiRecognizer } from "../types.js";
import { findResidentId } from "./cn-resident-id.js";
import { findUscc } from "./cn-uscc.js";

/**
 * Chinese 18-character codes: resident identity numbers and unified social credit codes. Both are
 * an 18-character run of letters and digits standing alone, so one scan finds the runs either
 * could be (the union of their leading characters: [1-9ANY] then seven digits) and each check
 * decides; that halves the passes over the text for two rare types.
 */
const codePattern = /(?<![0-9A-Za-z])[1-9ANY][0-9]{7}[0-9A-Za-z]{10}(?![0-9A-Za-z])/g;

export function createCnCodeRecognizer(today?: () => Date): PiiRecognizer {
  return {
    name: "cn-codes",
    types: ["CN_RESIDENT_ID", "CN_USCC"],
    find(text, out: PiiCandidate[]) {
      const pattern = new RegExp(codePattern.source, "g");
      for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
        findResidentId(text, match[0], match.index, today?.(), out);
        findUscc(text, match[0], match.index, out);
      }
    },
  };
}
