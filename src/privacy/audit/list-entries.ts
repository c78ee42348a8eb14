import type { Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { attempt } from "../../storage/errors.js";
import type { AuditEntriesTable } from "../../storage/schema.js";
import type { AuditEntry, JsonValue } from "./audit-types.js";

export interface AuditFilter {
  tenantId?: string | undefined;
  action?: string | undefined;
  actor?: string | undefined;
  /** ISO-8601, inclusive. */
  from?: string | undefined;
  /** ISO-8601, exclusive. */
  to?: string | undefined;
  /** 1..1000, default 100. */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  cursor?: string | undefined;
  /** Newest first by default. */
  order?: "asc" | "desc" | undefined;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string | undefined;
}

export function toAuditEntry(row: Selectable<AuditEntriesTable>): AuditEntry {
  let details: Record<string, JsonValue>;
  try {
    details = JSON.parse(row.details_json) as Record<string, JsonValue>;
  } catch {
    details = { unreadable: row.details_json };
  }
  return {
    seq: Number(row.seq),
    time: row.time,
    tenantId: row.tenant_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

const isoTime = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

function normaliseTime(value: string, param: string): string {
  const parsed = isoTime.test(value) ? new Date(value) : undefined;
  if (parsed === undefined || Number.isNaN(parsed.getTime()))
    throw new ModelportError("MP_INVALID_REQUEST", `${param} must be an ISO-8601 time, got '${value}'`, { param });
  return parsed.toISOString();
}

/** The admin API's list and filter: keyset-paginated by seq (stable while entries are appended). */
export async function listAuditEntries(
  database: Pick<DatabaseHandle, "db">,
  filter: AuditFilter = {},
): Promise<AuditPage> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000)
    throw new ModelportError("MP_INVALID_REQUEST", "limit must be an integer from 1 to 1000", { param: "limit" });
  const order = filter.order ?? "desc";
  let cursor: number | undefined;
  if (filter.cursor !== undefined) {
    if (!/^[1-9][0-9]{0,9}$/.test(filter.cursor))
      throw new ModelportError("MP_INVALID_REQUEST", "cursor is not one this API returned", { param: "cursor" });
    cursor = Number(filter.cursor);
  }
  let query = database.db.selectFrom("audit_entries").selectAll();
  if (filter.tenantId !== undefined) query = query.where("tenant_id", "=", filter.tenantId);
  if (filter.action !== undefined) query = query.where("action", "=", filter.action);
  if (filter.actor !== undefined) query = query.where("actor", "=", filter.actor);
  if (filter.from !== undefined) query = query.where("time", ">=", normaliseTime(filter.from, "from"));
  if (filter.to !== undefined) query = query.where("time", "<", normaliseTime(filter.to, "to"));
  if (cursor !== undefined) query = query.where("seq", order === "desc" ? "<" : ">", cursor);
  const rows = await attempt("listing audit entries", () =>
    query
      .orderBy("seq", order)
      .limit(limit + 1)
      .execute(),
  );
  const entries = rows.slice(0, limit).map(toAuditEntry);
  const last = entries.at(-1);
  return rows.length > limit && last !== undefined ? { entries, nextCursor: String(last.seq) } : { entries };
}
