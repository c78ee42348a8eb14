import { createContextMatcher } from "../context.js";
import type { PiiCandidate, PiiRecognizer } from "../types.js";

/**
 * Credentials: provider key formats with fixed prefixes, JWTs whose header decodes to JSON with an
 * "alg", PEM private-key blocks, Modelport's own `mp_` keys, and high-entropy values assigned to a
 * word like password, secret, token or api_key. Every pattern has bounded quantifiers and a fixed
 * literal prefix, so the scan is linear.
 */
interface PrefixedPattern {
  pattern: RegExp;
  score: number;
  /** The text after the prefix must look random ("sk-learn-is-a-python-library" is not a key). */
  random?: boolean;
}

const notBefore = "(?<![A-Za-z0-9_\\-])";
const notAfter = "(?![A-Za-z0-9_\\-])";
const prefixed: PrefixedPattern[] = [
  // AWS access key ids (long-term AKIA, temporary ASIA, and the other documented id prefixes).
  { pattern: new RegExp(`${notBefore}(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}${notAfter}`, "g"), score: 0.95 },
  // GitHub: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained tokens.
  { pattern: new RegExp(`${notBefore}gh[pousr]_[A-Za-z0-9]{36,251}${notAfter}`, "g"), score: 0.99 },
  { pattern: new RegExp(`${notBefore}github_pat_[A-Za-z0-9_]{22,255}${notAfter}`, "g"), score: 0.99 },
  // GitLab personal access tokens.
  { pattern: new RegExp(`${notBefore}glpat-[A-Za-z0-9_-]{20,64}${notAfter}`, "g"), score: 0.95, random: true },
  // Slack bot/user/app tokens and incoming-webhook URLs.
  { pattern: new RegExp(`${notBefore}xox[abposr]-[A-Za-z0-9-]{10,250}${notAfter}`, "g"), score: 0.97, random: true },
  { pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{20,120}/g, score: 0.97 },
  // Stripe secret and restricted keys (live and test).
  { pattern: new RegExp(`${notBefore}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}${notAfter}`, "g"), score: 0.97 },
  // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-) and Anthropic (sk-ant-) keys.
  { pattern: new RegExp(`${notBefore}sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{20,200}${notAfter}`, "g"), score: 0.9, random: true },
  // Google API keys.
  { pattern: new RegExp(`${notBefore}AIza[0-9A-Za-z_-]{35}${notAfter}`, "g"), score: 0.95 },
  // Hugging Face tokens.
  { pattern: new RegExp(`${notBefore}hf_[A-Za-z0-9]{30,40}${notAfter}`, "g"), score: 0.9, random: true },
  // Modelport tenant keys: mp_ + 40 Crockford base32 characters.
  { pattern: new RegExp(`${notBefore}mp_[0-9a-hjkmnp-tv-z]{40}${notAfter}`, "g"), score: 0.99 },
];

const jwtPattern = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,2048}\.[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{0,1024}(?![A-Za-z0-9_-])/g;
const pemBegin = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g;
/** A 40-character AWS secret access key, recognised only near an AWS word. */
const awsSecretPattern = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const awsContext = createContextMatcher(["aws", "secret access key", "aws_secret_access_key", "secret_access_key", "secretaccesskey"], 64, 8);

/**
 * "password: X", "api_key=X", "token is X", 密码：X. The keyword list is fixed and the value is one
 * bounded run of non-space characters, optionally quoted.
 */
const assignmentPattern =
  /(?<![A-Za-z])(passwords?|passwd|pwd|passphrase|secret|client[_-]?secret|token|access[_-]?token|auth[_-]?token|refresh[_-]?token|bearer|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|密码|口令|密钥|令牌|私钥)(["']?\s{0,3}(?:[:=：]|=>|is|为|是)\s{0,3}|\s)["'`]?([^\s"'`,;，。；]{6,256})/gi;

export function createSecretRecognizer(): PiiRecognizer {
  return {
    name: "secret",
    types: ["SECRET"],
    find(text, out: PiiCandidate[]) {
      for (const { pattern, score, random } of prefixed) {
        for (const match of text.matchAll(pattern)) {
          if (random && !looksRandom(match[0].slice(match[0].indexOf("-") + 1))) continue;
          const start = match.index ?? 0;
          out.push({ type: "SECRET", start, end: start + match[0].length, score });
        }
      }
      if (text.includes("eyJ")) findJwts(text, out);
      if (text.includes("-----BEGIN")) findPemBlocks(text, out);
      if (/aws|secret/i.test(text)) findAwsSecrets(text, out);
      findAssignedSecrets(text, out);
    },
  };
}

function findJwts(text: string, out: PiiCandidate[]): void {
  for (const match of text.matchAll(jwtPattern)) {
    const header = match[0].slice(0, match[0].indexOf("."));
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    } catch {
      continue; // not a JWT: the header must be JSON
    }
    if (parsed === null || typeof parsed !== "object" || !("alg" in parsed)) continue;
    const start = match.index ?? 0;
    out.push({ type: "SECRET", start, end: start + match[0].length, score: 0.95 });
  }
}

function findPemBlocks(text: string, out: PiiCandidate[]): void {
  for (const match of text.matchAll(pemBegin)) {
    const start = match.index ?? 0;
    const endMarker = `-----END ${match[1]}-----`;
    const endAt = text.indexOf(endMarker, start);
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
  for (const match of text.matchAll(awsSecretPattern)) {
    const value = match[0];
    // Real keys mix cases and digits; a 40-letter word run is not one.
    if (!/[a-z]/.test(value) || !/[A-Z]/.test(value) || !/[0-9]/.test(value)) continue;
    const start = match.index ?? 0;
    if (!awsContext.near(text, start, start + 40)) continue;
    out.push({ type: "SECRET", start, end: start + 40, score: 0.9 });
  }
}

function findAssignedSecrets(text: string, out: PiiCandidate[]): void {
  for (const match of text.matchAll(assignmentPattern)) {
    const keyword = (match[1] ?? "").toLowerCase();
    const bareSpace = (match[2] ?? "").trim() === "";
    const value = match[3] ?? "";
    const valueStart = (match.index ?? 0) + match[0].length - value.length;
    const isPassword = /^(?:passwords?|passwd|pwd|passphrase|密码|口令)$/.test(keyword);
    // A password can be any word; other secrets must look random (entropy, mixed classes).
    if (isPassword && !bareSpace) {
      if (value.length < 6 || /^(?:is|was|for|and|the|reset|change|changed|required|incorrect|expired|manager|policy)$/i.test(value))
        continue;
      out.push({ type: "SECRET", start: valueStart, end: valueStart + value.length, score: 0.8 });
      continue;
    }
    if (value.length < 12 || !looksRandom(value)) continue;
    out.push({ type: "SECRET", start: valueStart, end: valueStart + value.length, score: 0.8 });
  }
}

/** Shannon entropy of at least 3 bits per character and at least two character classes. */
export function looksRandom(value: string): boolean {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
  return entropy >= 3 && classes >= 2;
}
