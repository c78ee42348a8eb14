export { aesGcmDecrypt, aesGcmEncrypt, keyBytes, nonceBytes, tagBytes } from "./aes-gcm.js";
export { type FieldContext, isEncryptedField } from "./ciphertext-format.js";
export {
  type ActorOption,
  createDataKeyStore,
  type DataKeyInfo,
  type DataKeyStore,
  type DataKeyStoreOptions,
  type DestroyResult,
} from "./data-key-store.js";
export { createFieldCipher, type FieldCipher, type FieldCipherOptions } from "./field-cipher.js";
export { hmacSha256Hex } from "./hmac.js";
export {
  type EncryptedColumns,
  type RewrapReport,
  rewrapFields,
  rewrapStoredData,
  rewrapTable,
  type StoredField,
} from "./rewrap.js";
