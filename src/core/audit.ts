/**
 * The port feature modules use to write to the audit trail (privacy/audit implements it). Actions
 * are noun-verb names from privacy/audit/audit-actions.ts; `sensitive` values are stored only as
 * HMACs. Actors: `admin` (the admin token or local CLI), `key:<id>` (an admin-scoped key), `system`.
 */
export interface AuditEventInput {
  action: string;
  actor: string;
  tenantId?: string | null | undefined;
  target?: string | null | undefined;
  details?: Record<string, string | number | boolean | null> | undefined;
  sensitive?: Record<string, string> | undefined;
}

export interface AuditRecorder {
  record(event: AuditEventInput): Promise<unknown>;
}
