import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Credentials: provider key formats with fixed prefixes, JWTs whose header decodes to JSON with an
 * "alg", PEM private-key blocks, Modelport's own `mp_` keys, and high-entropy values assigned to a
 * word like password, secret, token or api_key. Every pattern has bounded quantifiers and a fixed
 * literal prefix, so the scan is linear.
 */
interface PrefixedPattern {
  source: string;
  score: number;
  /** The text after the prefix must look random ("sk-learn-is-a-python-library" is not a key). */
  random?: boolean;
}

const prefixed: PrefixedPattern[] = [
  // AWS access key ids (long-term AKIA, temporary ASIA, and the other documented id prefixes).
  { source: "(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}", score: 0.95 },
  // GitHub: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained tokens.
  { source: "gh[pousr]_[A-Za-z0-9]{36,251}", score: 0.99 },
  { source: "github_pat_[A-Za-z0-9_]{22,255}", score: 0.99 },
  // GitLab personal access tokens.
  { source: "glpat-[A-Za-z0-9_-]{20,64}", score: 0.95, random: true },
  // Slack bot/user/app tokens.
  { source: "xox[abposr]-[A-Za-z0-9-]{10,250}", score: 0.97, random: true },
  // Stripe secret and restricted keys (live and test).
  { source: "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}", score: 0.97 },
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-) keys.
  { source: "sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,200}", score: 0.9, random: true },
  // Google API keys.
  { source: "AIza[0-9A-Za-z_-]{35}", score: 0.95 },
  // Hugging Face tokens.
  { source: "hf_[A-Za-z0-9]{30,40}", score: 0.9, random: true },
  // Modelport tenant keys: mp_ + 40 Crockford base32 characters.
  { source: "mp_[0-9a-hjkmnp-tv-z]{40}", score: 0.99 },
];
// One scan for all of them: a capture group per format tells which one matched.
const prefixedPattern = new RegExp(
  `(?<![A-Za-z0-9_\\-])(?:${prefixed.map((entry) => `(${entry.source})`).join("|")})(?![A-Za-z0-9_\\-])`,
  "g",
);
const markerPattern = /eyJ|-----BEGIN|hooks\.slack\.com/g;
const slackWebhookPattern = /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{20,120}/g;

const pemBegin = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g;
/** A 40-character AWS secret access key, looked for only right after an AWS secret-key word. */
const awsKeyword = /aws|secret[_ ]?access[_ ]?key|secretaccesskey/gi;
const awsSecretPattern = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * "password: X", "api_key=X", "token is X", 密码：X. The keyword list is fixed and the value is one
 * bounded run of non-space characters, optionally quoted.
 */
const assignmentPattern =
  /(?<![A-Za-z<])(passwords?|passwd|pwd|passphrase|secret|client[_-]?secret|token|access[_-]?token|auth[_-]?token|refresh[_-]?token|bearer|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|密码|口令|密钥|令牌|私钥)(["']?\s{0,3}(?:[:=：]|=>|is|为|是)\s{0,3}|\s)["'`]?([^\s"'`,;，。；]{6,256})/gi;

export function createSecretRecognizer(): PiiRecognizer {
  return {
    name: "secret",
    types: ["SECRET"],
    find(text, out: PiiCandidate[]) {
      for (const match of text.matchAll(prefixedPattern)) {
        const entry = prefixed[match.findIndex((group, index) => index > 0 && group !== undefined) - 1];
        if (!entry) continue;
        if (entry.random && !looksRandom(match[0].slice(match[0].indexOf("-") + 1))) continue;
        const start = match.index ?? 0;
        out.push({ type: "SECRET", start, end: start + match[0].length, score: entry.score });
      }
      // One pass tells which of the rarer formats occur at all (three `includes` over text with
      // CJK characters in it cost three slow scans).
      const markers = new RegExp(markerPattern.source, "g");
      let slack = false;
      let jwt = false;
      let pem = false;
      for (let match = markers.exec(text); match !== null && !(slack && jwt && pem); match = markers.exec(text)) {
        if (match[0] === "eyJ") jwt = true;
        else if (match[0] === "-----BEGIN") pem = true;
        else slack = true;
      }
      if (slack) {
        for (const match of text.matchAll(slackWebhookPattern)) {
          const start = match.index ?? 0;
          out.push({ type: "SECRET", start, end: start + match[0].length, score: 0.97 });
        }
      }
      if (jwt) findJwts(text, out);
      if (pem) findPemBlocks(text, out);
      findAwsSecrets(text, out);
      findAssignedSecrets(text, out);
    },
  };
}

const isBase64Url = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 95;

/** End of the base64url run starting at `from`, scanning at most `max` characters. */
function runEnd(text: string, from: number, max: number): number {
  let end = from;
  while (end < text.length && end - from <= max && isBase64Url(text.charCodeAt(end))) end++;
  return end;
}

/**
 * JWTs: header.payload.signature in base64url, the header JSON with an "alg". Scanned by hand from
 * each "eyJ": a failed candidate skips its whole run, so "eyJeyJeyJ…" stays linear.
 */
function findJwts(text: string, out: PiiCandidate[]): void {
  let at = text.indexOf("eyJ");
  while (at >= 0) {
    if (at > 0 && isBase64Url(text.charCodeAt(at - 1))) {
      at = text.indexOf("eyJ", at + 1);
      continue;
    }
    const headerEnd = runEnd(text, at, 2048);
    if (text.charCodeAt(headerEnd) !== 46 || headerEnd - at < 9) {
      at = text.indexOf("eyJ", headerEnd);
      continue;
    }
    const payloadEnd = runEnd(text, headerEnd + 1, 8192);
    if (text.charCodeAt(payloadEnd) !== 46 || payloadEnd - headerEnd < 3) {
      at = text.indexOf("eyJ", payloadEnd);
      continue;
    }
    const end = runEnd(text, payloadEnd + 1, 1024);
    if (!isBase64Url(text.charCodeAt(end)) && jwtHeader(text.slice(at, headerEnd))) {
      out.push({ type: "SECRET", start: at, end, score: 0.95 });
    }
    at = text.indexOf("eyJ", end);
  }
}

function jwtHeader(encoded: string): boolean {
  const decoded = Buffer.from(encoded, "base64url").toString("utf8").trim();
  if (!decoded.startsWith("{") || !decoded.endsWith("}")) return false; // cheap, and no exception cost
  try {
    const parsed: unknown = JSON.parse(decoded);
    return parsed !== null && typeof parsed === "object" && "alg" in parsed;
  } catch {
    return false; // not a JWT: the header must be JSON
  }
}

function findPemBlocks(text: string, out: PiiCandidate[]): void {
  // Where each END marker next occurs, remembered so many BEGINs without an END stay linear.
  const nextEnd = new Map<string, number>();
  for (const match of text.matchAll(pemBegin)) {
    const start = match.index ?? 0;
    const endMarker = `-----END ${match[1]}-----`;
    let endAt = nextEnd.get(endMarker);
    if (endAt === undefined || (endAt >= 0 && endAt < start)) {
      endAt = text.indexOf(endMarker, start);
      nextEnd.set(endMarker, endAt);
    }
    let end: number;
    if (endAt >= 0 && endAt - start < 65_536) end = endAt + endMarker.length;
    else {
      // A truncated block: everything up to the first line that is not base64 or a header.
      const body = /^(?:[\r\n]+(?:[A-Za-z0-9+/=]{1,100}|[A-Za-z-]{1,40}: [^\r\n]{0,200}))*/.exec(
        text.slice(start + match[0].length, start + match[0].length + 65_536),
      );
      end = start + match[0].length + (body?.[0].length ?? 0);
    }
    out.push({ type: "SECRET", start, end, score: 1 });
  }
}

function findAwsSecrets(text: string, out: PiiCandidate[]): void {
  let searchedUntil = 0;
  for (const keyword of text.matchAll(awsKeyword)) {
    const from = Math.max(searchedUntil, keyword.index ?? 0);
    const window = text.slice(from, from + 120);
    searchedUntil = from + 120;
    for (const match of window.matchAll(awsSecretPattern)) {
      const value = match[0];
      // Real keys mix cases and digits; a 40-letter word run is not one.
      if (!/[a-z]/.test(value) || !/[A-Z]/.test(value) || !/[0-9]/.test(value)) continue;
      const start = from + (match.index ?? 0);
      out.push({ type: "SECRET", start, end: start + 40, score: 0.9 });
    }
  }
}

function findAssignedSecrets(text: string, out: PiiCandidate[]): void {
  for (const match of text.matchAll(assignmentPattern)) {
    const keyword = (match[1] ?? "").toLowerCase();
    const bareSpace = (match[2] ?? "").trim() === "";
    // Sentence punctuation after the value is not part of it ("password: hunter22.").
    const value = (match[3] ?? "").replace(/[.,:;)\]}]+$/, "");
    // Already protected: "password: <SECRET>", "<SECRET:enc:…>" or a mask must stay as they are.
    if (/^<[A-Z][A-Z0-9_]{0,40}(?:[:_][^>]{0,4096})?>$/.test(value) || /^(.)\1*$/u.test(value)) continue;
    const valueStart = (match.index ?? 0) + match[0].length - (match[3] ?? "").length;
    const isPassword = /^(?:passwords?|passwd|pwd|passphrase|密码|口令)$/.test(keyword);
    let accepted: boolean;
    if (bareSpace)
      accepted = value.length >= 12 && looksRandom(value); // "token 3f9aQ…"
    else if (isPassword)
      accepted = value.length >= 6 && !commonWord.test(value); // any word can be a password
    else accepted = value.length >= 8 && alnumClasses(value) >= 2; // "api_key=Summer2031!"
    if (accepted) out.push({ type: "SECRET", start: valueStart, end: valueStart + value.length, score: 0.8 });
  }
}

const commonWord = /^(?:reset|change|changed|required|incorrect|expired|manager|policy|protected|strength|updated)$/i;

function alnumClasses(value: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(value)).length;
}

/** Shannon entropy of at least 3 bits per character and at least two of lower, upper, digit. */
export function looksRandom(value: string): boolean {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy >= 3 && alnumClasses(value) >= 2;
}
