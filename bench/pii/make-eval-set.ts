/**
 * Generates bench/pii/eval-set.jsonl: labelled English and Chinese sentences for the PII engine.
 * Deterministic (seeded PRNG): `node --import tsx bench/pii/make-eval-set.ts` rewrites the same file.
 *
 * Each line: {"id","lang","text","entities":[{"type","start","end"}],"decoys":[{"kind","start","end"}]}
 * Offsets are UTF-16 indices, end exclusive. Entities with check digits are generated valid
 * (Luhn, MOD 97-10, GB 11643, GB 32100); `decoys` are look-alikes with a broken check digit or an
 * invalid structure that must NOT be reported (they are not entities, only annotated for analysis).
 */
import { writeFileSync } from "node:fs";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import {
  cnResidentIdCheckChar,
  ibanCheckDigits,
  luhnCheckDigit,
  usccAlphabet,
  usccCheckChar,
} from "../../src/privacy/pii/checksums.js";
import type { PiiEntityType } from "../../src/privacy/pii/types.js";

// ---- seeded randomness --------------------------------------------------------------------------
let seed = 20240611;
function random(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const digits = (count: number) => Array.from({ length: count }, () => String(int(0, 9))).join("");
const chars = (alphabet: string, count: number) =>
  Array.from({ length: count }, () => pick(Array.from(alphabet))).join("");

// ---- sentence builder ---------------------------------------------------------------------------
interface Entity {
  type: PiiEntityType;
  start: number;
  end: number;
}
interface Decoy {
  kind: string;
  start: number;
  end: number;
}
interface EvalLine {
  id: string;
  lang: "en" | "zh";
  text: string;
  entities: Entity[];
  decoys: Decoy[];
}
type Part = string | { type: PiiEntityType; value: string } | { decoy: string; value: string };
const records: EvalLine[] = [];
function add(lang: "en" | "zh", ...parts: Part[]): void {
  let text = "";
  const entities: Entity[] = [];
  const decoys: Decoy[] = [];
  for (const part of parts) {
    if (typeof part === "string") {
      text += part;
      continue;
    }
    const start = text.length;
    text += part.value;
    if ("type" in part) entities.push({ type: part.type, start, end: text.length });
    else decoys.push({ kind: part.decoy, start, end: text.length });
  }
  records.push({ id: `${lang}-${String(records.length + 1).padStart(4, "0")}`, lang, text, entities, decoys });
}
const e = (type: PiiEntityType, value: string) => ({ type, value });
const d = (kind: string, value: string) => ({ decoy: kind, value });

// ---- value generators ---------------------------------------------------------------------------
function card(network: string): string {
  const prefixes: Record<string, [string[], number[]]> = {
    visa: [["4"], [16, 16, 16, 13]],
    mastercard: [["51", "52", "53", "54", "55", "2221", "2720"], [16]],
    amex: [["34", "37"], [15]],
    unionpay: [["62"], [16, 16, 19]],
    discover: [["6011", "65"], [16]],
    jcb: [["3528", "3589"], [16]],
  };
  const [starts, lengths] = prefixes[network] as [string[], number[]];
  const prefix = pick(starts);
  const length = pick(lengths);
  const payload = prefix + digits(length - prefix.length - 1);
  return payload + luhnCheckDigit(payload);
}
function formatCard(number: string, style: string): string {
  if (style === "plain") return number;
  const separator = style === "dash" ? "-" : " ";
  if (number.length === 15) return [number.slice(0, 4), number.slice(4, 10), number.slice(10)].join(separator);
  return number.match(/.{1,4}/g)?.join(separator) ?? number;
}
function breakLastDigit(value: string): string {
  const last = value.at(-1) ?? "0";
  return value.slice(0, -1) + String((Number(last) + int(1, 9)) % 10);
}
const ibanFormats: Record<string, () => string> = {
  DE: () => digits(18),
  GB: () => chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4) + digits(14),
  FR: () => digits(10) + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 11) + digits(2),
  ES: () => digits(20),
  IT: () => chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1) + digits(10) + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 12),
  NL: () => chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4) + digits(10),
  CH: () => digits(5) + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 12),
  BE: () => digits(12),
  PL: () => digits(24),
  SA: () => digits(2) + chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18),
};
function iban(country: string): string {
  const bban = (ibanFormats[country] as () => string)();
  return `${country}${ibanCheckDigits(country, bban)}${bban}`;
}
const group4 = (value: string) => value.match(/.{1,4}/g)?.join(" ") ?? value;
function ssn(): string {
  let area = int(1, 899);
  if (area === 666) area = 667;
  return `${String(area).padStart(3, "0")}-${String(int(1, 99)).padStart(2, "0")}-${String(int(1, 9999)).padStart(4, "0")}`;
}
const regionCodes = [
  "110101",
  "110105",
  "310104",
  "310115",
  "440305",
  "440106",
  "320102",
  "330106",
  "510107",
  "420106",
  "610113",
  "350203",
  "370202",
  "210102",
  "500103",
  "120101",
];
function birthDate(): string {
  const year = int(1950, 2005);
  const month = int(1, 12);
  const day = int(1, new Date(Date.UTC(year, month, 0)).getUTCDate());
  return `${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}`;
}
function cnId(): string {
  const first17 = pick(regionCodes) + birthDate() + digits(3);
  return first17 + cnResidentIdCheckChar(first17);
}
function orgCode(): string {
  const body = chars("0123456789ABCDEFGHJKLMNPQRTUWXY", 8);
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let index = 0; index < 8; index++) {
    const ch = body.charCodeAt(index);
    sum += (ch <= 57 ? ch - 48 : ch - 55) * (weights[index] ?? 0);
  }
  const check = 11 - (sum % 11);
  const checkChar = check === 10 ? "X" : check === 11 ? "0" : String(check);
  return body + checkChar;
}
function uscc(): string {
  for (;;) {
    const first17 = pick(["91", "92", "93", "12", "52", "11"]) + pick(regionCodes) + orgCode();
    const check = usccCheckChar(first17);
    if (check && usccAlphabet.includes(first17[16] ?? "")) return first17 + check;
  }
}
function brokenUscc(): string {
  const valid = uscc();
  const check = valid.at(-1) ?? "0";
  const other = Array.from(usccAlphabet).filter((ch) => ch !== check);
  return valid.slice(0, -1) + pick(other);
}
function validPhone(make: () => string): string {
  for (;;) {
    const value = make();
    if (parsePhoneNumberFromString(value)?.isValid()) return value;
  }
}
const intlPhones: (() => string)[] = [
  () => validPhone(() => `+44 20 7946 ${digits(4)}`),
  () => validPhone(() => `+49 30 ${int(2, 9)}${digits(7)}`),
  () => validPhone(() => `+33 1 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`),
  () => validPhone(() => `+81 3-${int(1, 9)}${digits(3)}-${digits(4)}`),
  () => validPhone(() => `+86 ${pick(["138", "139", "186", "150", "177"])} ${digits(4)} ${digits(4)}`),
  () => validPhone(() => `+91 ${int(7, 9)}${digits(4)} ${digits(5)}`),
  () =>
    validPhone(() => `+1 ${pick(["212", "415", "646", "312", "617", "206"])} ${int(2, 9)}${digits(2)} ${digits(4)}`),
  () => validPhone(() => `+61 2 ${int(8, 9)}${digits(3)} ${digits(4)}`),
];
const usAreas = ["212", "415", "646", "312", "617", "206", "303", "404", "512", "702", "718", "202"];
function usPhone(): string {
  const area = pick(usAreas);
  const exchange = `${int(2, 9)}${digits(2)}`.replace(/^([2-9])11$/, "$121");
  const line = digits(4);
  return pick([`(${area}) ${exchange}-${line}`, `${area}-${exchange}-${line}`, `${area}.${exchange}.${line}`]);
}
const cnMobilePrefixes = [
  "130",
  "131",
  "135",
  "138",
  "139",
  "150",
  "152",
  "158",
  "166",
  "177",
  "180",
  "186",
  "188",
  "199",
];
function cnMobile(): string {
  const number = pick(cnMobilePrefixes) + digits(8);
  return pick([
    number,
    number,
    `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}`,
    `${number.slice(0, 3)}-${number.slice(3, 7)}-${number.slice(7)}`,
  ]);
}
function cnLandline(): string {
  return pick([
    `010-${int(6, 8)}${digits(7)}`,
    `021-${int(5, 6)}${digits(7)}`,
    `0755-${int(2, 8)}${digits(7)}`,
    `0571-${int(8, 8)}${digits(7)}`,
  ]);
}
function ipv4(): string {
  return `${pick(["10", "172", "192", "203", "81", "45", "100"])}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
}
function ipv6(): string {
  const hex = () => int(0, 0xffff).toString(16);
  return pick([
    `2001:db8:${hex()}:${hex()}::${hex()}`,
    `fe80::${hex()}:${hex()}:${hex()}:${hex()}`,
    `2001:0db8:85a3:0000:0000:8a2e:${hex()}:${hex()}`,
  ]);
}
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const b64url = `${b64}-_`;
function jwt(): string {
  const header = Buffer.from(JSON.stringify({ alg: pick(["HS256", "RS256", "ES256"]), typ: "JWT" })).toString(
    "base64url",
  );
  const payload = Buffer.from(
    JSON.stringify({ sub: digits(8), name: "user", iat: 1700000000 + int(0, 9999999) }),
  ).toString("base64url");
  return `${header}.${payload}.${chars(b64url, 43)}`;
}
function pem(): string {
  const lines = Array.from({ length: int(3, 6) }, () => chars(`${b64}+/`, 64));
  const kind = pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"]);
  return `-----BEGIN ${kind}-----\n${lines.join("\n")}\n-----END ${kind}-----`;
}
function randomMixed(length: number): string {
  for (;;) {
    const value = chars(b64, length);
    if (/[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value)) return value;
  }
}
const secrets: (() => string)[] = [
  () => `AKIA${chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
  () => `ASIA${chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`,
  () => `ghp_${chars(b64, 36)}`,
  () => `gho_${chars(b64, 36)}`,
  () => `github_pat_${chars(b64, 22)}_${chars(b64, 59)}`,
  () => `xoxb-${digits(11)}-${digits(12)}-${randomMixed(24)}`,
  () => `sk_live_${randomMixed(24)}`,
  () => `sk-proj-${randomMixed(40)}T3BlbkFJ${randomMixed(20)}`,
  () => `sk-${randomMixed(48)}`,
  () => `AIza${chars(`${b64}-_`, 35)}`,
  () => `mp_${chars("0123456789abcdefghjkmnpqrstvwxyz", 40)}`,
  jwt,
];

// ---- name lists (partly outside the engine's lists, to test cues) -------------------------------
const firstNames = [
  "Emily",
  "Jessica",
  "Sarah",
  "Olivia",
  "Sophia",
  "Hannah",
  "Rachel",
  "Lauren",
  "Megan",
  "Natalie",
  "Victoria",
  "Caroline",
  "Thomas",
  "Daniel",
  "Matthew",
  "Andrew",
  "Christopher",
  "Jonathan",
  "Benjamin",
  "Samuel",
  "Nathan",
  "Patrick",
  "Gregory",
  "Timothy",
  "Kenneth",
  "Steven",
  "Edward",
  "Robert",
  "Margaret",
  "Katherine",
  "Elizabeth",
  "Rebecca",
  "Amanda",
  "Melissa",
  "Stephanie",
  "Brandon",
  "Tyler",
  "Justin",
  "Jeffrey",
  "Raymond",
  "Laura",
  "Helen",
  "Alice",
  "Peter",
  "George",
  "Henry",
  "Oscar",
  "Lucas",
];
const surnames = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Miller",
  "Davis",
  "Wilson",
  "Anderson",
  "Taylor",
  "Thompson",
  "Harris",
  "Clark",
  "Lewis",
  "Walker",
  "Robinson",
  "Young",
  "Wright",
  "Scott",
  "Nguyen",
  "Campbell",
  "Mitchell",
  "Carter",
  "Roberts",
  "Patel",
  "Kowalski",
  "Fitzgerald",
  "Whitaker",
  "Pemberton",
  "Okonkwo",
  "Lindqvist",
  "Haddad",
  "Moreau",
  "Tanaka",
  "Schneider",
  "Ferreira",
];
const unlistedFirst = [
  "Oluwaseun",
  "Priyanka",
  "Xiaoming",
  "Anneliese",
  "Thandiwe",
  "Bartholomew",
  "Ignatius",
  "Siobhan",
  "Rashida",
  "Dmitri",
];
const ambiguousFirst = ["Will", "May", "Mark", "Grace", "Hope", "Bill", "Rose", "Faith"];
const zhSurnames = [
  "王",
  "李",
  "张",
  "刘",
  "陈",
  "杨",
  "黄",
  "赵",
  "吴",
  "周",
  "徐",
  "孙",
  "马",
  "朱",
  "胡",
  "郭",
  "何",
  "林",
  "罗",
  "郑",
  "梁",
  "谢",
  "宋",
  "唐",
  "韩",
  "冯",
  "邓",
  "曹",
  "彭",
  "曾",
  "欧阳",
  "司马",
  "诸葛",
  "上官",
];
const zhGiven = [
  "伟",
  "芳",
  "娜",
  "敏",
  "静",
  "丽",
  "强",
  "磊",
  "军",
  "洋",
  "勇",
  "艳",
  "杰",
  "娟",
  "涛",
  "超",
  "霞",
  "刚",
  "飞",
  "鹏",
  "宇",
  "浩",
  "婷",
  "雪",
  "琳",
  "晨",
  "欣",
  "怡",
  "涵",
  "博",
  "斌",
  "辉",
  "峰",
  "亮",
  "燕",
  "萍",
  "慧",
  "颖",
  "佳",
  "倩",
  "俊",
  "鑫",
];
const zhRareGiven = ["彧", "翊", "珩", "玥", "昶", "湉"];
const fullName = () => `${pick(firstNames)} ${pick(surnames)}`;
const zhName = (givenLength = pick([1, 2, 2])) =>
  pick(zhSurnames) + Array.from({ length: givenLength }, () => pick(random() < 0.1 ? zhRareGiven : zhGiven)).join("");
const emailFor = () =>
  `${pick(firstNames).toLowerCase()}${pick([".", "_", ""])}${pick(surnames).toLowerCase()}${pick(["", String(int(1, 99))])}@${pick(["example.com", "mail.example.org", "corp.example.net", "qq.com", "163.com", "example.co.uk"])}`;
const url = () =>
  pick([
    `https://www.example.com/account/${digits(6)}`,
    `http://intranet.example.org/wiki/Page_${digits(3)}`,
    `https://docs.example.net/guide?id=${digits(4)}&lang=en`,
    `www.example.cn/products/${digits(5)}.html`,
    `https://shop.example.com/cart#item-${digits(2)}`,
  ]);

// ---- English sentences --------------------------------------------------------------------------
const networks = ["visa", "mastercard", "amex", "unionpay", "discover", "jcb"];
for (let i = 0; i < 60; i++) {
  const network = pick(networks);
  const value = formatCard(card(network), pick(["plain", "space", "space", "dash"]));
  const lang = i % 3 === 0 ? "zh" : "en";
  if (lang === "en")
    add(
      "en",
      pick([
        "Please charge my card ",
        "Card number: ",
        "I paid with ",
        "The customer's Visa is ",
        "Use ",
        "Refund to ",
      ]),
      e("CREDIT_CARD", value),
      pick([" for the order.", ".", ", exp 09/27.", " thanks", " 🙏 asap."]),
    );
  else
    add(
      "zh",
      pick(["我的信用卡号是", "银行卡号：", "请用这张卡", "付款卡号 "]),
      e("CREDIT_CARD", value),
      pick(["，谢谢。", "。", "，有效期09/27。"]),
    );
}
for (let i = 0; i < 30; i++) {
  const value = formatCard(breakLastDigit(card(pick(networks))), pick(["plain", "space", "dash"]));
  add(
    i % 2 ? "en" : "zh",
    i % 2 ? "Card number " : "卡号",
    d("CREDIT_CARD luhn", value),
    i % 2 ? " was declined." : "已失效。",
  );
}
for (let i = 0; i < 45; i++) {
  const country = pick(Object.keys(ibanFormats));
  const raw = iban(country);
  const value = random() < 0.5 ? group4(raw) : raw;
  if (i % 3 === 0) add("zh", pick(["请汇款至账户", "收款账号：", "IBAN："]), e("IBAN_CODE", value), "。");
  else
    add(
      "en",
      pick(["Wire the funds to IBAN ", "Our bank account is ", "Beneficiary: ", "Send it to "]),
      e("IBAN_CODE", value),
      pick([" by Friday.", ".", " (EUR)."]),
    );
}
for (let i = 0; i < 20; i++) {
  const raw = iban(pick(Object.keys(ibanFormats)));
  const broken = raw.slice(0, 2) + String((Number(raw.slice(2, 4)) + int(1, 50)) % 100).padStart(2, "0") + raw.slice(4);
  add("en", "The IBAN ", d("IBAN_CODE mod97", random() < 0.5 ? group4(broken) : broken), " was rejected by the bank.");
}
for (let i = 0; i < 45; i++) {
  const value = ssn();
  add(
    "en",
    pick(["My SSN is ", "Social security number: ", "SSN ", "Employee ", "Her social security number is "]),
    e("US_SSN", value),
    pick([".", " on file.", ", please verify."]),
  );
}
for (let i = 0; i < 20; i++) {
  const bad = pick([
    `000-${digits(2).replace("00", "12")}-${String(int(1, 9999)).padStart(4, "0")}`,
    `666-${String(int(10, 99))}-${String(int(1000, 9999))}`,
    `9${digits(2)}-${String(int(10, 99))}-${String(int(1000, 9999))}`,
    `${String(int(100, 665))}-00-${String(int(1000, 9999))}`,
    `${String(int(100, 665))}-${String(int(10, 99))}-0000`,
  ]);
  add("en", "Invalid SSN ", d("US_SSN structure", bad), " was entered.");
}
for (let i = 0; i < 55; i++) {
  const value = cnId();
  if (i % 4 === 3) add("en", "Chinese ID number ", e("CN_RESIDENT_ID", value), " belongs to the applicant.");
  else
    add(
      "zh",
      pick(["身份证号：", "我的身份证号码是", "公民身份号码 ", "证件号", "👤 身份证号 "]),
      e("CN_RESIDENT_ID", value),
      pick(["。", "，请核对。", "，已登记。"]),
    );
}
for (let i = 0; i < 25; i++) {
  const valid = cnId();
  const check = valid.at(-1) ?? "0";
  const broken =
    i % 3 === 0
      ? `${valid.slice(0, 10)}0230${valid.slice(14, 17)}${cnResidentIdCheckChar(`${valid.slice(0, 10)}0230${valid.slice(14, 17)}`)}`
      : valid.slice(0, 17) + pick(Array.from("0123456789X").filter((ch) => ch !== check));
  add("zh", "无效的身份证号", d("CN_RESIDENT_ID check", broken), "不能使用。");
}
for (let i = 0; i < 45; i++) {
  const value = uscc();
  if (i % 4 === 3) add("en", "The company's unified social credit code is ", e("CN_USCC", value), ".");
  else
    add(
      "zh",
      pick(["统一社会信用代码：", "公司税号", "营业执照代码 ", "信用代码为"]),
      e("CN_USCC", value),
      pick(["。", "，请开发票。", "。"]),
    );
}
for (let i = 0; i < 25; i++) add("zh", "统一社会信用代码", d("CN_USCC check", brokenUscc()), "校验失败。");
for (let i = 0; i < 70; i++) {
  const kind = i % 5;
  if (kind === 0)
    add(
      "zh",
      pick(["我的手机号是", "手机：", "请拨打", "联系电话 "]),
      e("PHONE_NUMBER", cnMobile()),
      pick(["。", "，随时联系。", "找我。"]),
    );
  else if (kind === 1)
    add(
      "en",
      pick(["Call me at ", "Phone: ", "You can reach the office on ", "Her mobile is "]),
      e("PHONE_NUMBER", usPhone()),
      pick([".", " after 5pm.", " ☎️."]),
    );
  else if (kind === 2)
    add(
      "en",
      pick(["International line: ", "Call ", "WhatsApp ", "Tel. "]),
      e("PHONE_NUMBER", (pick(intlPhones) as () => string)()),
      pick([".", " anytime.", " (office)."]),
    );
  else if (kind === 3) add("zh", pick(["办公室电话", "座机："]), e("PHONE_NUMBER", cnLandline()), "。");
  else add("zh", pick(["国际电话", "请拨打"]), e("PHONE_NUMBER", (pick(intlPhones) as () => string)()), "联系我们。");
}
for (let i = 0; i < 60; i++) {
  if (i % 3 === 0)
    add("zh", pick(["邮箱：", "请发邮件到", "联系邮箱 "]), e("EMAIL_ADDRESS", emailFor()), pick(["。", "，谢谢！"]));
  else
    add(
      "en",
      pick(["Email me at ", "Contact: ", "Send the invoice to ", "cc "]),
      e("EMAIL_ADDRESS", emailFor()),
      pick([".", " today.", " 📧"]),
    );
}
for (let i = 0; i < 50; i++) {
  const v6 = i % 4 === 0;
  const value = v6 ? ipv6() : ipv4();
  if (i % 3 === 0) add("zh", pick(["服务器地址", "客户端IP：", "登录IP "]), e("IP_ADDRESS", value), "。");
  else
    add(
      "en",
      pick(["The request came from ", "Server IP: ", "Blocked address ", "Login from "]),
      e("IP_ADDRESS", value),
      pick([".", " at 10:42.", " yesterday."]),
    );
}
for (let i = 0; i < 40; i++) {
  if (i % 3 === 0) add("zh", pick(["访问", "链接："]), e("URL", url()), " 查看详情。");
  else
    add(
      "en",
      pick(["See ", "Open ", "Docs at ", "Details: "]),
      e("URL", url()),
      pick([" for details.", ".", " (internal)."]),
    );
}
for (let i = 0; i < 60; i++) {
  const value = (pick(secrets) as () => string)();
  add(
    i % 4 === 0 ? "zh" : "en",
    pick(["Here is the key: ", "export TOKEN=", "Authorization: Bearer ", "我的密钥是 ", "config: "]),
    e("SECRET", value),
    pick(["", " — rotate it.", "。"]),
  );
}
for (let i = 0; i < 12; i++) add("en", "Deploy key:\n", e("SECRET", pem()), "\nKeep it safe.");
for (let i = 0; i < 20; i++) {
  const value = i % 2 ? randomMixed(int(8, 14)) : `${pick(["Summer", "Winter", "Dragon", "Tiger"])}${digits(4)}!`;
  if (i % 3 === 0) add("zh", "数据库密码：", e("SECRET", value), "，请勿外传。");
  else
    add(
      "en",
      pick(["password: ", "The password is ", "api_key=", "DB_PASSWORD="]),
      e("SECRET", value),
      pick(["", " (temporary).", "."]),
    );
}
add("en", "Install scikit-learn with pip; the package sk-learn-is-not-a-key-at-all is unrelated.");
add("en", "Reset your password at the portal; the password policy requires 12 characters.");
add(
  "en",
  "The string ",
  d("SECRET fake-jwt", "eyJub3QgYSBqd3Qgaw.eyJhbGwgZmFrZQ.c2lnbmF0dXJlaGVyZQ"),
  " is not a real JWT.",
);
add("en", "Our API key rotation runs every Monday and tokens expire after an hour.");

// PERSON (English)
for (let i = 0; i < 120; i++) {
  const kind = i % 12;
  const name = fullName();
  const first = pick(firstNames);
  const surname = pick(surnames);
  if (kind === 0) add("en", "Dear ", e("PERSON", name), ", thank you for your order.");
  else if (kind === 1)
    add(
      "en",
      e("PERSON", name),
      pick([" said the shipment was delayed.", " will join the call at 3pm.", " approved the refund."]),
    );
  else if (kind === 2) add("en", "Please contact ", e("PERSON", name), " in accounting.");
  else if (kind === 3)
    add(
      "en",
      pick(["Mr. ", "Ms. ", "Dr. ", "Mrs. ", "Prof. "]),
      e("PERSON", surname),
      pick([" is waiting in room 4.", " will see you now.", " signed the form."]),
    );
  else if (kind === 4)
    add("en", "My name is ", e("PERSON", `${pick(unlistedFirst)} ${surname}`), " and I need help with my account.");
  else if (kind === 5) add("en", "Yesterday I met ", e("PERSON", first), " at the conference.");
  else if (kind === 6) add("en", "Regards,\n", e("PERSON", name));
  else if (kind === 7)
    add("en", "The report was reviewed by ", e("PERSON", name), " and ", e("PERSON", fullName()), ".");
  else if (kind === 8)
    add("en", "Patient: ", e("PERSON", `${pick(unlistedFirst)} ${pick(surnames)}`), ", age ", String(int(20, 80)), ".");
  else if (kind === 9) add("en", "😀 ", e("PERSON", name), " sent the files 📁 this morning.");
  else if (kind === 10)
    add("en", "Meeting with ", e("PERSON", `${pick(ambiguousFirst)} ${pick(surnames)}`), " on Thursday.");
  else add("en", "Thanks, ", e("PERSON", first), "! See you soon.");
}
// PERSON (Chinese)
for (let i = 0; i < 110; i++) {
  const kind = i % 10;
  const name = zhName();
  if (kind === 0) add("zh", "我叫", e("PERSON", name), "，来自上海。");
  else if (kind === 1) add("zh", "姓名：", e("PERSON", name), "，性别：男。");
  else if (kind === 2) add("zh", "联系人：", e("PERSON", name), "，电话见附件。");
  else if (kind === 3)
    add("zh", "请联系", e("PERSON", zhName(pick([0, 1, 2]))), pick(["先生", "女士", "经理"]), "处理此事。");
  else if (kind === 4) add("zh", "今天", e("PERSON", zhName(pick([1, 2]))), pick(["老师", "医生"]), "不在办公室。");
  else if (kind === 5) add("zh", e("PERSON", zhName(2)), "说明天会把合同寄过来。");
  else if (kind === 6) add("zh", "收件人：", e("PERSON", name), "，地址：北京市朝阳区。");
  else if (kind === 7) add("zh", "本公司法定代表人", e("PERSON", name), "签字确认。");
  else if (kind === 8) add("zh", "📞 ", e("PERSON", zhName(pick([1, 2]))), "女士来电咨询退款。");
  else add("zh", "申请人", e("PERSON", name), "已提交材料。");
}

// Mixed sentences with several entities.
for (let i = 0; i < 40; i++) {
  if (i % 2)
    add(
      "en",
      "Customer ",
      e("PERSON", fullName()),
      " (",
      e("EMAIL_ADDRESS", emailFor()),
      ", ",
      e("PHONE_NUMBER", usPhone()),
      ") paid with ",
      e("CREDIT_CARD", formatCard(card(pick(networks)), "space")),
      " from ",
      e("IP_ADDRESS", ipv4()),
      ".",
    );
  else
    add(
      "zh",
      "客户",
      e("PERSON", zhName(2)),
      "，身份证号",
      e("CN_RESIDENT_ID", cnId()),
      "，手机",
      e("PHONE_NUMBER", cnMobile()),
      "，邮箱",
      e("EMAIL_ADDRESS", emailFor()),
      "。",
    );
}

// Negatives: no PII at all (numbers, dates, capitalised words, Chinese prose).
const negativesEn = [
  "The meeting is on Monday, March 3rd at 10:30 in Building 7.",
  "Version 2.4.1 fixes 17 bugs and improves performance by 35%.",
  "Order #48213 shipped on 2024-03-15 and should arrive within 5 days.",
  "Will you send the report before Friday?",
  "Mark the date: the launch is in April.",
  "Hope is not a strategy, but it helps.",
  "Paris is lovely in the spring, and Berlin in the summer.",
  "The invoice total is $1,234,567.89 including tax.",
  "Apple and Microsoft reported earnings on Thursday.",
  "Grace periods apply to late payments of up to 30 days.",
  "May I ask a question about the API?",
  "The temperature dropped to -12.5 degrees overnight.",
  "Room 1204, floor 12, tower B.",
  "Bill the client for 12 hours of consulting.",
  "Rose petals covered the table at the wedding reception.",
  "Use the 3.14159 approximation for pi in this exercise.",
  "The Grand Canyon is 446 km long.",
  "Press Ctrl+Shift+P to open the command palette.",
  "Our team shipped 1500 units in Q3 2023.",
  "The ISBN is 978-3-16-148410-0 for the second edition.",
  "Faith in the process kept the project going.",
  "Download speeds reached 940 Mbps on the new link.",
  "Patch notes for release 10.0.19045 are online.",
  "The building at 350 Fifth Avenue has 102 floors.",
  "Call the function with timeout=3000 and retries=5.",
];
const negativesZh = [
  "会议定于2024年3月15日上午10点在三楼举行。",
  "本季度营收增长了12.5%，净利润为3200万元。",
  "订单号20240315001已发货，预计三天内送达。",
  "中国银行和工商银行今天发布了新的理财产品。",
  "王国的历史可以追溯到一千年前。",
  "这个版本修复了17个问题，性能提升了35%。",
  "高明的设计往往很简单。",
  "北京市朝阳区今天的最高气温是28度。",
  "请在周五之前提交项目报告。",
  "平安保险公司成立于1988年。",
  "马上就要过年了，大家都很高兴。",
  "黄金价格今天上涨了1.2%。",
  "白天和黑夜的温差很大。",
  "文件编号为2023-0457，请妥善保管。",
  "第3章讨论了数据安全和隐私保护的问题。",
];
for (const text of negativesEn) add("en", text);
for (const text of negativesZh) add("zh", text);

writeFileSync(
  new URL("./eval-set.jsonl", import.meta.url),
  `${records.map((record) => JSON.stringify(record)).join("\n")}\n`,
);
const entityCount = records.reduce((sum, record) => sum + record.entities.length, 0);
const decoyCount = records.reduce((sum, record) => sum + record.decoys.length, 0);
console.log(`${records.length} records, ${entityCount} entities, ${decoyCount} decoys`);
