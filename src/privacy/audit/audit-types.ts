import type { AuditAction } from "./audit-actions.js";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One thing to record. `sensitive` values (an email, an IP address, a prompt excerpt) are never
 * stored: each becomes `HMAC-SHA256(auditKey, value)` hex under `details.hmac.<name>`, so an
 * investigator holding a candidate value can check it matches (`AuditLog.hmacOf`) while the
 * trail itself reveals nothing.
 */
export interface AuditEvent {
  action: AuditAction;
  /** Who: `admin`, `user:<id>`, `key:<id>`, `system`, `cli`. */
  actor: string;
  tenantId?: string | null | undefined;
  /** What it was done to: `api-key:<id>`, `tenant:<id>`, `endpoint:<name>`. */
  target?: string | null | undefined;
  details?: Record<string, JsonValue> | undefined;
  sensitive?: Record<string, string> | undefined;
}

/** The narrow port other modules need to write to the trail. */
export interface AuditRecorder {
  record(event: AuditEvent): Promise<unknown>;
}

/** A stored entry as read back. */
export interface AuditEntry {
  seq: number;
  time: string;
  tenantId: string | null;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, JsonValue>;
  prevHash: string;
  hash: string;
}

export interface AuditCheckpoint {
  seq: number;
  hash: string;
  /** base64 Ed25519 signature over the canonical checkpoint statement. */
  signature: string;
  /** sha256 hex of the signing key's SPKI DER encoding. */
  keyFingerprint: string;
  time: string;
}
