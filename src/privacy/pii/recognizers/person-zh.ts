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
const prefixCue =
  /(?:姓名是|姓名|名字|我叫|我是|叫做|名叫|联系人|收件人|收货人|寄件人|申请人|负责人|经办人|法定代表人|法人代表|代表人|患者|病人|客户|签名|乘客|持卡人|户名|开户人|借款人|担保人|被保险人|投保人|业主|租客|房东|员工|学生)/g;
const titleSuffix =
  /(?:先生|女士|小姐|老师|教授|医生|大夫|经理|总监|主任|律师|同学|师傅|阿姨|叔叔|博士|院长|校长|处长|科长|局长|书记|主席|董事长|总经理|工程师|护士)/g;
/** Characters that end a given name: particles, verbs and words that usually follow a name. */
const stopChars = new Set(
  Array.from(
    "签提确负接寄送办处的了是在和与及或说讲道问答给把被让对向从为于今昨年月日岁号先女老已也都就还又很才只再要会能可请去来到看用等们这那有没不我你他她它其此该各每性男住家工电手身证联系的地得着过吗呢吧啊，。、；：！？（）《》“”‘’ ",
  ),
);
/** Characters that can start a longer candidate only by accident (向王先生: 向 is "towards"). */
const particleStarts = new Set(
  Array.from(
    "向于和与在从将把被给对以及为是有那这也都就还又很才只再所要会能可请让叫说问找跟同由自当到去来看用各每本该某此其另原新老小大位名姓的了着过",
  ),
);
const afterNoCue =
  /^(?:说|表示|告诉|认为|是|在|和|与|的|今天|昨天|已经|也|去|来|问|回答|打电话|发|负责|提出|指出|同意|曾|将|要|会|正在|刚|还|就|都|又|对|向|给|被|把|让|跟|，|。|、|；|！|？|：)/;
/** Particles after which a name may start although the character before it is Chinese. */
const boundaryParticles = codeSet("和与跟给让请问对把被由是找向叫");

// The per-character checks below run for every Chinese character of the text, so they compare
// UTF-16 codes (every listed character is in the BMP) instead of making one-character strings.
function codeSet(characters: Iterable<string>): ReadonlySet<number> {
  return new Set(Array.from(characters, (character) => character.charCodeAt(0)));
}
const isCjk = (code: number) => code >= 0x3400 && code <= 0x9fff;
const compoundFirstCodes = codeSet(chineseCompoundSurnames.map((surname) => surname[0] ?? ""));
const singleSurnameCodes = codeSet(chineseSingleSurnames);
const givenNameCodes = codeSet(chineseGivenNameChars);
const stopCodes = codeSet(stopChars);
/** First characters of the titles that end a name early (王明先生). */
const shortTitleFirstCodes = codeSet("先女小老经");

function surnameLength(text: string, at: number): number {
  const code = text.charCodeAt(at);
  if (compoundFirstCodes.has(code) && chineseCompoundSurnames.includes(text.slice(at, at + 2))) return 2;
  return singleSurnameCodes.has(code) ? 1 : 0;
}

/** True where a name may start: the text start, a non-Chinese character or a particle before it. */
function boundaryBefore(text: string, at: number): boolean {
  if (at === 0) return true;
  const code = text.charCodeAt(at - 1);
  return !isCjk(code) || boundaryParticles.has(code);
}

/** Length of the name starting at `at` (surname + up to two given characters), 0 if none. */
function nameAt(text: string, at: number, maxGiven: number, limit = text.length): number {
  const surname = surnameLength(text, at);
  if (surname === 0) return 0;
  let given = 0;
  while (given < maxGiven && at + surname + given < limit) {
    const code = text.charCodeAt(at + surname + given);
    if (!isCjk(code) || stopCodes.has(code)) break;
    // A title right after one given character ends the name: 王明先生.
    if (
      given >= 1 &&
      shortTitleFirstCodes.has(code) &&
      /^(?:先生|女士|小姐|老师|经理)/.test(text.slice(at + surname + given, at + surname + given + 2))
    )
      break;
    given++;
  }
  return surname + given;
}

const cjkRun = /[\u3400-\u9fff]{1,4096}/g;
const separatorAfterCue = /^[：:\s]{0,2}/;

export function createChinesePersonRecognizer(): PiiRecognizer {
  return {
    name: "person-zh",
    types: ["PERSON"],
    find(text, out: PiiCandidate[]) {
      // Work run by run of CJK characters: the cue and title regexes then scan short strings, and
      // text without Chinese costs one character-class scan.
      let noCueFrom = 0;
      for (const run of text.matchAll(cjkRun)) {
        const runStart = run.index ?? 0;
        const value = run[0];
        for (const match of value.matchAll(prefixCue)) {
          const cueEnd = runStart + (match.index ?? 0) + match[0].length;
          const at = cueEnd + (separatorAfterCue.exec(text.slice(cueEnd, cueEnd + 2))?.[0].length ?? 0);
          const length = nameAt(text, at, 2);
          if (length >= 2) out.push({ type: "PERSON", start: at, end: at + length, score: 0.9 });
        }
        for (const match of value.matchAll(titleSuffix)) {
          const end = runStart + (match.index ?? 0);
          const found = nameBefore(text, end, runStart);
          if (found > 0) out.push({ type: "PERSON", start: end - found, end, score: found > 1 ? 0.85 : 0.75 });
        }
        if (value.length >= 3) noCueFrom = findWithoutCue(text, runStart, runStart + value.length, noCueFrom, out);
      }
    },
  };
}

/**
 * The name ending at `end` (right before a title): the longest surname + given-name reading, except
 * that a reading starting with a particle that is also a surname (向, 和, 于 …) loses to the shorter
 * one: 向王先生 is 王, 和王伟先生 is 王伟.
 */
function nameBefore(text: string, end: number, runStart: number): number {
  for (let length = 4; length >= 1; length--) {
    const start = end - length;
    if (start < runStart || nameAt(text, start, 2, end) !== length) continue;
    if (length > 1 && particleStarts.has(text[start] ?? "") && nameAt(text, start + 1, 2, end) === length - 1) continue;
    return length;
  }
  return 0;
}

function findWithoutCue(text: string, from: number, to: number, scanFrom: number, out: PiiCandidate[]): number {
  let next = scanFrom;
  for (let at = from; at < to - 2; at++) {
    if (at < next) continue;
    const surname = surnameLength(text, at);
    if (surname === 0) continue;
    if (!givenNameCodes.has(text.charCodeAt(at + surname)) || !givenNameCodes.has(text.charCodeAt(at + surname + 1)))
      continue;
    const end = at + surname + 2;
    if (!boundaryBefore(text, at)) continue;
    if (!afterNoCue.test(text.slice(end, end + 3))) continue;
    out.push({ type: "PERSON", start: at, end, score: 0.6 });
    next = end;
  }
  return next;
}
