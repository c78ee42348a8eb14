import { createHmac, timingSafeEqual } from "node:crypto";
import { randomId } from "../core/ids.js";

/**
 * Tenant API keys look like `mp_3k9x…` (3 + 40 base32 characters: 200 random bits). Only an
 * HMAC-SHA256 of the whole key under a server secret is stored, plus a visible prefix so people
 * can tell keys apart. The HMAC (not a plain hash) means a stolen database alone cannot be used to
 * test guesses offline.
 */
export const apiKeyPrefixLength = 11;
const apiKeyPattern = /^mp_[0-9a-hjkmnp-tv-z]{40}$/;

export function generateApiKey(): { key: string; prefix: string } {
  const key = randomId("mp", 40);
  return { key, prefix: key.slice(0, apiKeyPrefixLength) };
}

/** Cheap syntax check before any hashing or lookup. */
export function looksLikeApiKey(value: string): boolean {
  return apiKeyPattern.test(value);
}

export function hashSecret(hashingKey: Buffer, secret: string): string {
  return createHmac("sha256", hashingKey).update(secret).digest("hex");
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}
