import { createCipheriv, createDecipheriv, type KeyObject, randomFillSync } from "node:crypto";

/** AES-256-GCM parameters used for every envelope: 256-bit keys, 96-bit nonces, 128-bit tags. */
export const keyBytes = 32;
export const nonceBytes = 12;
export const tagBytes = 16;

export interface GcmSealed {
  ciphertext: Buffer;
  tag: Buffer;
}

/**
 * One AES-256-GCM encryption (node:crypto / OpenSSL). The caller supplies the nonce so the
 * standard test vectors can be replayed; envelope code always passes 12 fresh random bytes.
 */
export function aesGcmEncrypt(
  key: Uint8Array | KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): GcmSealed {
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: tagBytes });
  if (aad.length > 0) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** Decrypts and authenticates; throws (OpenSSL's "unable to authenticate data") when anything was altered. */
export function aesGcmDecrypt(
  key: Uint8Array | KeyObject,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Buffer {
  // A short tag would let a forger try 2^32 or fewer guesses; accept exactly 16 bytes.
  if (tag.length !== tagBytes) throw new Error(`authentication tag must be ${tagBytes} bytes`);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: tagBytes });
  decipher.setAuthTag(tag);
  if (aad.length > 0) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

// Nonces come from a pooled CSPRNG buffer: one randomFillSync per 341 nonces instead of one
// randomBytes call (a few µs each) per encryption. Each nonce is copied out and the offset only
// moves forward, so no two encryptions ever share bytes of the pool.
const pool = Buffer.alloc(nonceBytes * 341);
let poolOffset = pool.length;

/** 12 fresh random bytes for a GCM nonce. */
export function randomNonce(): Buffer {
  if (poolOffset + nonceBytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const nonce = Buffer.from(pool.subarray(poolOffset, poolOffset + nonceBytes));
  poolOffset += nonceBytes;
  return nonce;
}
