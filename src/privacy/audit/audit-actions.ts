/**
 * What the audit trail records, as noun-verb names (DESIGN.md). Add new actions at the end; never
 * rename one (stored entries and filters use these strings).
 */
export const auditActions = [
  // admin actions
  "tenant-created",
  "tenant-updated",
  "tenant-deleted",
  "user-created",
  "user-updated",
  "user-disabled",
  "admin-token-created",
  "admin-token-rotated",
  // API key lifecycle
  "api-key-created",
  "api-key-rotated",
  "api-key-revoked",
  // data-key lifecycle (encryption at rest)
  "data-key-created",
  "data-key-rotated",
  "data-keys-destroyed",
  "data-keys-rewrapped",
  "data-reencrypted",
  // policy and config
  "policy-created",
  "policy-updated",
  "policy-deleted",
  "config-changed",
  "limits-changed",
  "budget-changed",
  // models
  "model-registered",
  "model-promoted",
  "model-rolled-back",
  // data access
  "data-decrypted",
  "data-exported",
  "data-deleted",
  // the trail itself
  "audit-checkpoint-created",
  "audit-verified",
  // commerce
  "plan-changed",
] as const;

export type AuditAction = (typeof auditActions)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (auditActions as readonly string[]).includes(value);
}
