export { type AuditAction, auditActions, isAuditAction } from "./audit-actions.js";
export { type AuditLog, type AuditLogOptions, createAuditLog } from "./audit-log.js";
export type { AuditCheckpoint, AuditEntry, AuditEvent, AuditRecorder, JsonValue } from "./audit-types.js";
export { canonicalJson } from "./canonical-json.js";
export { entryHash, genesisHash } from "./entry-hash.js";
export { type AuditFilter, type AuditPage, listAuditEntries } from "./list-entries.js";
export {
  type AuditSigner,
  createAuditSigner,
  loadOrCreateAuditSigner,
  parsePublicKey,
  publicKeyFingerprint,
  readAuditPublicKey,
  signingKeyFileName,
} from "./signing-key.js";
export { type AuditBreak, type AuditBreakKind, type AuditVerification, verifyAuditChain } from "./verify-chain.js";
