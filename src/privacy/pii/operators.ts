import { ModelportError } from "../../core/errors.js";
import { resolveOverlaps } from "./overlap.js";
import { encryptPiiValue, hmacSha256, parsePiiKey } from "./pii-crypto.js";
import type { PseudonymSession } from "./pseudonymize.js";
import type { PiiCandidate, PiiEntityType } from "./types.js";

export const piiOperatorNames = ["replace", "redact", "mask", "hash", "encrypt", "pseudonymize"] as const;
export type PiiOperatorName = (typeof piiOperatorNames)[number];

export interface PiiOperatorOptions {
  /** mask: the masking character (default "*"); one code point. */
  maskChar?: string;
  /** mask: how many trailing digits/letters stay visible per type (default: 4 for CREDIT_CARD). */
  keepLast?: Partial<Record<PiiEntityType, number>>;
  /** hash and encrypt: the tenant's 32-byte key (Buffer or 64 hex characters). */
  key?: Buffer | string;
  /** hash: hex characters of the HMAC kept in the token (default 16 = 64 bits). */
  hashLength?: number;
  /** pseudonymize: the request's session (holds the mapping for re-identification). */
  session?: PseudonymSession;
}

const defaultKeepLast: Partial<Record<PiiEntityType, number>> = { CREDIT_CARD: 4 };

/**
 * Rewrites `text` at the given spans with one operator. Spans are resolved to non-overlapping ones
 * first and the text between them is copied untouched, so the output is never corrupted:
 *   replace       → <TYPE>
 *   redact        → "" (removed)
 *   mask          → one mask character per code point (emoji and CJK count once); for cards the
 *                   last 4 digits and the separators stay
 *   hash          → <TYPE:hex> with HMAC-SHA256(key, value) truncated to `hashLength` hex characters
 *   encrypt       → <TYPE:enc:…> (AES-256-GCM, see pii-crypto.ts), reversible with decryptPiiText
 *   pseudonymize  → <TYPE_N>, consistent within the session, reversible with reidentify
 */
export function anonymize(
  text: string,
  findings: readonly PiiCandidate[],
  operator: PiiOperatorName,
  options: PiiOperatorOptions = {},
): string {
  const transform = createOperator(operator, options);
  const spans = resolveOverlaps(findings.filter((finding) => finding.start >= 0 && finding.end <= text.length));
  let out = "";
  let cursor = 0;
  for (const span of spans) {
    out += text.slice(cursor, span.start);
    out += transform(span.type, text.slice(span.start, span.end));
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

type Transform = (type: PiiEntityType, value: string) => string;

export function createOperator(operator: PiiOperatorName, options: PiiOperatorOptions = {}): Transform {
  switch (operator) {
    case "replace":
      return (type) => `<${type}>`;
    case "redact":
      return () => "";
    case "mask": {
      const maskChar = options.maskChar ?? "*";
      if (Array.from(maskChar).length !== 1)
        throw new ModelportError("MP_INVALID_REQUEST", "maskChar must be one character");
      const keepLast = { ...defaultKeepLast, ...options.keepLast };
      return (type, value) => maskValue(value, maskChar, keepLast[type] ?? 0, type === "CREDIT_CARD");
    }
    case "hash": {
      const key = requireKey(options, "hash");
      const length = options.hashLength ?? 16;
      if (!Number.isInteger(length) || length < 8 || length > 64) {
        throw new ModelportError("MP_INVALID_REQUEST", "hashLength must be an integer from 8 to 64");
      }
      return (type, value) => `<${type}:${hmacSha256(key, value).toString("hex").slice(0, length)}>`;
    }
    case "encrypt": {
      const key = requireKey(options, "encrypt");
      return (type, value) => encryptPiiValue(key, type, value);
    }
    case "pseudonymize": {
      const session = options.session;
      if (!session) throw new ModelportError("MP_INVALID_REQUEST", "the pseudonymize operator needs a session");
      return (type, value) => session.placeholderFor(type, value);
    }
    default:
      throw new ModelportError("MP_INVALID_REQUEST", `unknown PII operator '${String(operator)}'`);
  }
}

function requireKey(options: PiiOperatorOptions, operator: string): Buffer {
  if (options.key === undefined) throw new ModelportError("MP_INVALID_REQUEST", `the ${operator} operator needs a key`);
  return parsePiiKey(options.key);
}

/**
 * Masks code point by code point, so "张伟" becomes "**" and an emoji one "*" (never half a
 * surrogate pair). `keepLast` alphanumerics stay visible; with `keepSeparators` spaces and dashes
 * stay too ("**** **** **** 1111").
 */
export function maskValue(value: string, maskChar: string, keepLast: number, keepSeparators: boolean): string {
  const points = Array.from(value);
  let toKeep = keepLast;
  const out = new Array<string>(points.length);
  for (let index = points.length - 1; index >= 0; index--) {
    const point = points[index] as string;
    const alnum = /^[0-9A-Za-z]$/.test(point);
    if (keepSeparators && (point === " " || point === "-")) out[index] = point;
    else if (toKeep > 0 && alnum) {
      out[index] = point;
      toKeep--;
    } else out[index] = maskChar;
  }
  return out.join("");
}
