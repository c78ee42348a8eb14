import { ModelportError } from "../../core/errors.js";
import { aesGcmDecrypt, aesGcmEncrypt, randomNonce } from "./aes-gcm.js";
import { assertFieldContext, associatedData, type FieldContext, formatField, parseField } from "./ciphertext-format.js";
import {
  type ActorOption,
  createDataKeyStore,
  type DataKeyStore,
  type DataKeyStoreOptions,
  type DestroyResult,
} from "./data-key-store.js";

/**
 * Envelope encryption of stored fields: each tenant has random AES-256 data keys (wrapped by the
 * master key, see key-wrap.ts); each field is sealed with AES-256-GCM under the tenant's newest
 * key, a fresh 96-bit random nonce, and associated data binding tenant, table, row, column and
 * key version. Plaintexts and keys are never logged or put in error messages.
 *
 * Nonce budget: random 96-bit nonces stay safe for up to 2^32 encryptions per key (NIST SP
 * 800-38D §8.3); rotate a tenant's key well before that (e.g. yearly, or every 10^9 writes).
 */
export interface FieldCipher {
  encryptField(context: FieldContext, plaintext: string): Promise<string>;
  decryptField(context: FieldContext, ciphertext: string): Promise<string>;
  /** The key version a stored value was sealed with (no decryption). */
  keyVersionOf(ciphertext: string): number;
  /** Re-seals under the tenant's newest key; undefined when it already uses it. */
  reencryptField(context: FieldContext, ciphertext: string): Promise<string | undefined>;
  rotateTenantKey(tenantId: string, options?: ActorOption): Promise<number>;
  destroyTenantKeys(tenantId: string, options?: ActorOption): Promise<DestroyResult>;
  readonly keys: DataKeyStore;
}

export type FieldCipherOptions = DataKeyStoreOptions;

export function createFieldCipher(options: FieldCipherOptions): FieldCipher {
  const keys = createDataKeyStore(options);

  async function encryptField(context: FieldContext, plaintext: string): Promise<string> {
    assertFieldContext(context);
    if (typeof plaintext !== "string") throw new ModelportError("MP_INTERNAL", "encryptField takes a string");
    const { version, key } = await keys.current(context.tenantId);
    const nonce = randomNonce();
    const sealed = aesGcmEncrypt(key, nonce, Buffer.from(plaintext, "utf8"), associatedData(context, version));
    return formatField(version, nonce, sealed.ciphertext, sealed.tag);
  }

  async function decryptField(context: FieldContext, ciphertext: string): Promise<string> {
    assertFieldContext(context);
    const parsed = parseField(ciphertext);
    const key = await keys.get(context.tenantId, parsed.keyVersion);
    try {
      const plain = aesGcmDecrypt(
        key,
        parsed.nonce,
        parsed.ciphertext,
        parsed.tag,
        associatedData(context, parsed.keyVersion),
      );
      return plain.toString("utf8");
    } catch (error) {
      throw new ModelportError(
        "MP_DECRYPT_FAILED",
        `${context.table}.${context.column} of row ${context.rowId} failed authentication: altered, or copied from another row, column or tenant`,
        { cause: error },
      );
    }
  }

  return {
    keys,
    encryptField,
    decryptField,
    keyVersionOf: (ciphertext) => parseField(ciphertext).keyVersion,
    async reencryptField(context, ciphertext) {
      const { version } = await keys.current(context.tenantId);
      if (parseField(ciphertext).keyVersion === version) return undefined;
      return encryptField(context, await decryptField(context, ciphertext));
    },
    rotateTenantKey: (tenantId, rotateOptions) => keys.rotate(tenantId, rotateOptions),
    destroyTenantKeys: (tenantId, destroyOptions) => keys.destroy(tenantId, destroyOptions),
  };
}
