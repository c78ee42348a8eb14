import { createHmac, randomBytes } from "node:crypto";
import { deriveKey } from "../../server/master-key.js";
import { aesGcmDecrypt, aesGcmEncrypt, keyBytes, nonceBytes, tagBytes } from "./aes-gcm.js";

/**
 * Wrapping of per-tenant data keys by a key-encryption key (KEK).
 *
 * Scheme: AES-256-GCM with a random 96-bit nonce and associated data
 * `["mp-data-key-v1", tenantId, version, kekId]`, stored as base64url(nonce ‖ wrapped ‖ tag).
 * Chosen over AES-KW (RFC 3394/5649) because GCM binds the tenant and version: a wrapped key
 * copied to another tenant's row or version fails to unwrap. Random nonces are safe here: a KEK
 * wraps a handful of keys per tenant, far below GCM's 2^32-messages-per-key limit for random
 * nonces.
 *
 * The KEK is HKDF-derived from the master key (`deriveKey(masterKey, "data-key-wrapping")`), and
 * its id (a 16-hex HMAC fingerprint) is stored beside every wrapped key. A master-key rotation
 * therefore never needs to touch encrypted data: load the old master key as a previous key,
 * re-wrap each data key under the new KEK (`DataKeyStore.rewrapUnderCurrentMasterKey`), and the
 * rows' `kek_id` say which ones are done.
 */
export interface KeyEncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

export function deriveKeyEncryptionKey(masterKey: Buffer): KeyEncryptionKey {
  const key = deriveKey(masterKey, "data-key-wrapping");
  return { id: createHmac("sha256", key).update("kek-id").digest("hex").slice(0, 16), key };
}

export interface WrapContext {
  tenantId: string;
  version: number;
}

function wrapAad(kek: KeyEncryptionKey, context: WrapContext): Buffer {
  return Buffer.from(JSON.stringify(["mp-data-key-v1", context.tenantId, context.version, kek.id]), "utf8");
}

export function wrapDataKey(kek: KeyEncryptionKey, dataKey: Buffer, context: WrapContext): string {
  const nonce = randomBytes(nonceBytes);
  const { ciphertext, tag } = aesGcmEncrypt(kek.key, nonce, dataKey, wrapAad(kek, context));
  return Buffer.concat([nonce, ciphertext, tag]).toString("base64url");
}

/** Throws when the wrapped key was altered, moved, or wrapped under another KEK. */
export function unwrapDataKey(kek: KeyEncryptionKey, wrapped: string, context: WrapContext): Buffer {
  const body = Buffer.from(wrapped, "base64url");
  if (body.length !== nonceBytes + keyBytes + tagBytes) throw new Error("wrapped data key has the wrong length");
  return aesGcmDecrypt(
    kek.key,
    body.subarray(0, nonceBytes),
    body.subarray(nonceBytes, nonceBytes + keyBytes),
    body.subarray(nonceBytes + keyBytes),
    wrapAad(kek, context),
  );
}
