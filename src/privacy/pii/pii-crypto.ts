import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { ModelportError } from "../../core/errors.js";

/**
 * Keys and tokens for the hash and encrypt operators.
 *
 * Encrypted token format:
 *   <TYPE:enc:BODY>  with  BODY = base64url( 0x01 | iv (12 bytes) | ciphertext | GCM tag (16 bytes) )
 * AES-256-GCM with a fresh random IV per value; the additional authenticated data is
 * "modelport-pii:v1:TYPE", so a token cannot be moved to another type without failing
 * authentication. Version byte 0x01 leaves room for a new format.
 */
const version = 1;
const ivLength = 12;
const tagLength = 16;

/** A 32-byte key from a Buffer or 64 hex characters (e.g. MODELPORT_PII_KEY). */
export function parsePiiKey(key: Buffer | string, name = "PII key"): Buffer {
  if (Buffer.isBuffer(key)) {
    if (key.length !== 32)
      throw new ModelportError("MP_INVALID_REQUEST", `${name} must be 32 bytes, got ${key.length}`);
    return key;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(key.trim())) {
    throw new ModelportError("MP_INVALID_REQUEST", `${name} must be 64 hexadecimal characters (32 bytes)`);
  }
  return Buffer.from(key.trim(), "hex");
}

export function hmacSha256(key: Buffer, data: string | Buffer): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

const aad = (type: string) => Buffer.from(`modelport-pii:v1:${type}`, "utf8");

export function encryptPiiValue(key: Buffer, type: string, plaintext: string): string {
  const iv = randomBytes(ivLength);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength });
  cipher.setAAD(aad(type));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const body = Buffer.concat([Buffer.from([version]), iv, ciphertext, cipher.getAuthTag()]);
  return `<${type}:enc:${body.toString("base64url")}>`;
}

/** Decrypts one token body; throws MP_INVALID_REQUEST when it was altered or the key is wrong. */
export function decryptPiiValue(key: Buffer, type: string, body: string): string {
  const raw = Buffer.from(body, "base64url");
  if (raw.length < 1 + ivLength + tagLength || raw[0] !== version) {
    throw new ModelportError("MP_INVALID_REQUEST", `the encrypted ${type} token is malformed`);
  }
  const iv = raw.subarray(1, 1 + ivLength);
  const tag = raw.subarray(raw.length - tagLength);
  const ciphertext = raw.subarray(1 + ivLength, raw.length - tagLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength });
    decipher.setAAD(aad(type));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
  } catch (cause) {
    throw new ModelportError(
      "MP_INVALID_REQUEST",
      `the encrypted ${type} token failed authentication (altered, or another key)`,
      {
        cause,
      },
    );
  }
}

const tokenPattern = /<([A-Z][A-Z0-9_]{0,40}):enc:([A-Za-z0-9_-]{38,})>/g;

/** Replaces every encrypted token in `text` with its plaintext; any tampered token throws. */
export function decryptPiiText(text: string, key: Buffer | string): string {
  return decryptPiiTokens(text, key).text;
}

/** decryptPiiText, also counting the tokens decrypted per type (for the audit trail). */
export function decryptPiiTokens(text: string, key: Buffer | string): { text: string; types: Record<string, number> } {
  const parsed = parsePiiKey(key);
  const types: Record<string, number> = {};
  const out = text.replace(tokenPattern, (_match, type: string, body: string) => {
    const value = decryptPiiValue(parsed, type, body);
    types[type] = (types[type] ?? 0) + 1;
    return value;
  });
  return { text: out, types };
}

/** A public identifier of a PII key (which key decrypted, on the audit trail), never the key. */
export function piiKeyFingerprint(key: Buffer | string): string {
  return hmacSha256(parsePiiKey(key), "modelport-pii-key-fingerprint").toString("hex").slice(0, 16);
}
