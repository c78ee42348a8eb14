import { chineseCompoundSurnames, chineseGivenNameChars, chineseSingleSurnames } from "../names/chinese-names.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Chinese person names: a surname from the common-surname list (single or compound) followed by a
 * given name of one or two characters, found three ways:
 *   - after a cue: 姓名：, 我叫, 联系人, 收件人, 法定代表人 … (score 0.9);
 *   - before a title: 先生, 女士, 老师, 经理 … (0.85; a bare surname such as 王先生 counts too);
 *   - with no cue, a three-character name of common given-name characters between a boundary and a
 *     verb or particle (张伟明说 …) (0.6).
 * The title or cue is not part of the span. All scans are single passes over bounded windows.
 */
const cjk = /[\u3400-\u9fff]/;
const prefixCue =
  /(?:姓名|名字|我叫|我是|叫做|名叫|联系人|收件人|收货人|寄件人|申请人|负责人|经办人|法定代表人|法人代表|代表人|患者|病人|客户|签名|乘客|持卡人|户名|开户人|借款人|担保人|被保险人|投保人|业主|租客|房东|员工|学生|姓名是)[：:\s]{0,2}/g;
const titleSuffix = /(?:先生|女士|小姐|老师|教授|医生|大夫|经理|总监|主任|律师|同学|师傅|阿姨|叔叔|博士|院长|校长|处长|科长|局长|书记|主席|董事长|总经理|工程师|护士)/g;
/** Characters that end a given name: particles, verbs and words that usually follow a name. */
const stopChars = new Set(
  Array.from("的了是在和与及或说讲道问答给把被让对向从为于今明昨年月日岁号先女老已也都就还又很才只再要会能可请去来到看用等们这那有没不我你他她它其此该各每性男住家工电手身证联系的地得着过吗呢吧啊，。、；：！？（）《》“”‘’ "),
);
/** Characters that can start a longer candidate only by accident (向王先生: 向 is "towards"). */
const particleStarts = new Set(Array.from("向于和与在从将把被给对以及为是有那这也都就还又很才只再所要会能可请让叫说问找跟同由自当到去来看用各每本该某此其另原新老小大位名姓的了着过"));
const afterNoCue =
  /^(?:说|表示|告诉|认为|是|在|和|与|的|今天|昨天|已经|也|去|来|问|回答|打电话|发|负责|提出|指出|同意|曾|将|要|会|正在|刚|还|就|都|又|对|向|给|被|把|让|跟|，|。|、|；|！|？|：)/;
const boundaryBefore = /(?:^|[^\u3400-\u9fff]|[和与跟给让请问对把被由是找向叫])$/;
const compoundFirstChars = new Set(chineseCompoundSurnames.map((surname) => surname[0] ?? ""));

function surnameLength(text: string, at: number): number {
  if (compoundFirstChars.has(text[at] ?? "") && chineseCompoundSurnames.includes(text.slice(at, at + 2))) return 2;
  return chineseSingleSurnames.has(text[at] ?? "") ? 1 : 0;
}

/** Length of the name starting at `at` (surname + up to two given characters), 0 if none. */
function nameAt(text: string, at: number, maxGiven: number): number {
  const surname = surnameLength(text, at);
  if (surname === 0) return 0;
  let given = 0;
  while (given < maxGiven) {
    const ch = text[at + surname + given] ?? "";
    if (!cjk.test(ch) || stopChars.has(ch)) break;
    // A title right after one given character ends the name: 王明先生.
    if (given >= 1 && /^(?:先生|女士|小姐|老师|经理)/.test(text.slice(at + surname + given, at + surname + given + 2))) break;
    given++;
  }
  return surname + given;
}

export function createChinesePersonRecognizer(): PiiRecognizer {
  return {
    name: "person-zh",
    types: ["PERSON"],
    find(text, out: PiiCandidate[]) {
      if (!cjk.test(text)) return;
      for (const match of text.matchAll(prefixCue)) {
        const at = (match.index ?? 0) + match[0].length;
        const length = nameAt(text, at, 2);
        if (length >= 2) out.push({ type: "PERSON", start: at, end: at + length, score: 0.9 });
      }
      for (const match of text.matchAll(titleSuffix)) {
        const end = match.index ?? 0;
        const found = nameBefore(text, end);
        if (found > 0) out.push({ type: "PERSON", start: end - found, end, score: found > 1 ? 0.85 : 0.75 });
      }
      findWithoutCue(text, out);
    },
  };
}

/** The best name ending at `end` (right before a title): the longest with a clean left boundary. */
function nameBefore(text: string, end: number): number {
  for (let length = 4; length >= 1; length--) {
    const start = end - length;
    if (start < 0 || nameAt(text, start, 2) !== length) continue;
    if (length > 1 && particleStarts.has(text[start] ?? "") && nameAt(text, start + 1, 2) === length - 1) continue;
    if (length === 1 || boundaryBefore.test(text.slice(Math.max(0, start - 1), start))) return length;
  }
  return 0;
}

function findWithoutCue(text: string, out: PiiCandidate[]): void {
  let scanFrom = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code < 0x3400 || code > 0x9fff || at < scanFrom) continue;
    const surname = surnameLength(text, at);
    if (surname === 0) continue;
    const g1 = text[at + surname] ?? "";
    const g2 = text[at + surname + 1] ?? "";
    if (!chineseGivenNameChars.has(g1) || !chineseGivenNameChars.has(g2)) continue;
    const end = at + surname + 2;
    if (!boundaryBefore.test(text.slice(Math.max(0, at - 1), at))) continue;
    if (!afterNoCue.test(text.slice(end, end + 3))) continue;
    out.push({ type: "PERSON", start: at, end, score: 0.6 });
    scanFrom = end;
  }
}
