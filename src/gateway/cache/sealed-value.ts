import { aesGcmDecrypt, aesGcmEncrypt, nonceBytes, randomNonce, tagBytes } from "../../privacy/crypto/aes-gcm.js";

/**
 * Cached answers may hold personal data, so outside the process they are stored sealed:
 * AES-256-GCM with a fresh random nonce, the store key as associated data (a value copied under
 * another key, e.g. another tenant's, fails to open). Layout: version byte, nonce, tag, ciphertext.
 */
const formatVersion = 1;

export function sealValue(key: Buffer, storeKey: string, plaintext: string): Buffer {
  const nonce = randomNonce();
  const sealed = aesGcmEncrypt(key, nonce, Buffer.from(plaintext, "utf8"), Buffer.from(storeKey, "utf8"));
  return Buffer.concat([Buffer.of(formatVersion), nonce, sealed.tag, sealed.ciphertext]);
}

/** The plaintext, or throws when the value is not ours, altered, or bound to another key. */
export function openValue(key: Buffer, storeKey: string, stored: Buffer): string {
  if (stored.length < 1 + nonceBytes + tagBytes || stored[0] !== formatVersion)
    throw new Error("cached value has an unknown format");
  const nonce = stored.subarray(1, 1 + nonceBytes);
  const tag = stored.subarray(1 + nonceBytes, 1 + nonceBytes + tagBytes);
  const ciphertext = stored.subarray(1 + nonceBytes + tagBytes);
  return aesGcmDecrypt(key, nonce, ciphertext, tag, Buffer.from(storeKey, "utf8")).toString("utf8");
}
