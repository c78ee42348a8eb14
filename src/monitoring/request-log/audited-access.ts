import { ModelportError } from "../../core/errors.js";
import type { AuditRecorder } from "../../privacy/audit/audit-types.js";
import type { RequestLogRepository } from "./repository.js";
import type { RequestLogEntry, RequestLogQuery } from "./types.js";

/**
 * Admin reads and erasures of the request log, each on the audit trail:
 *   - every search is a `data-exported` entry (who, which tenant, which filters, how many rows,
 *     whether payloads left in plaintext);
 *   - a search with `payloads: "plaintext"` decrypts the stored prompts and answers and is first a
 *     `data-decrypted` entry (rows and fields decrypted);
 *   - an end-user erasure is a `data-deleted` entry whose end user is HMAC'd by the trail, never
 *     stored.
 * The entries are written before the data is returned: if the trail cannot be written, the caller
 * gets an error, not unaudited plaintext.
 */
export interface PayloadDecrypter {
  decryptField(
    context: { tenantId: string; table: string; rowId: string; column: string },
    ciphertext: string,
  ): Promise<string>;
}

export interface AuditedRequestLogOptions {
  repository: Pick<RequestLogRepository, "search" | "eraseEndUser">;
  audit: AuditRecorder;
  /** The field cipher; without it plaintext reads are refused. */
  decrypter?: PayloadDecrypter | undefined;
  /** The keyed hash the log stores for an end user (end-user.ts). */
  endUserHash(tenantId: string, endUser: string): string;
}

export interface AuditedSearchQuery extends RequestLogQuery {
  tenantId: string;
  payloads?: "plaintext" | undefined;
}

/** A log entry as a plaintext read returns it: the ciphertext fields swapped for the text. */
export type DecryptedRequestLogEntry = Omit<RequestLogEntry, "requestPayload" | "responsePayload"> & {
  requestText: string | null;
  responseText: string | null;
  /** Set when a payload could not be decrypted (a destroyed key, an altered value): the error code. */
  payloadError?: string;
};

export interface AuditedRequestLog {
  search(
    query: AuditedSearchQuery,
    actor: string,
  ): Promise<{ data: (RequestLogEntry | DecryptedRequestLogEntry)[]; nextCursor: string | null }>;
  eraseEndUser(tenantId: string, endUser: string, actor: string): Promise<number>;
}

const payloadColumns = [
  ["requestPayload", "request_payload", "requestText"],
  ["responsePayload", "response_payload", "responseText"],
] as const;

export function createAuditedRequestLog(options: AuditedRequestLogOptions): AuditedRequestLog {
  const { repository, audit } = options;

  async function decryptEntry(
    entry: RequestLogEntry,
    decrypter: PayloadDecrypter,
  ): Promise<{ entry: DecryptedRequestLogEntry; fields: number }> {
    const { requestPayload: _request, responsePayload: _response, ...rest } = entry;
    const out: DecryptedRequestLogEntry = { ...rest, requestText: null, responseText: null };
    let fields = 0;
    for (const [field, column, textField] of payloadColumns) {
      const ciphertext = entry[field];
      if (ciphertext === null || entry.tenantId === null) continue;
      try {
        out[textField] = await decrypter.decryptField(
          { tenantId: entry.tenantId, table: "request_log", rowId: entry.requestId, column },
          ciphertext,
        );
        fields++;
      } catch (error) {
        out.payloadError = (error as { code?: string }).code ?? "MP_DECRYPT_FAILED";
      }
    }
    return { entry: out, fields };
  }

  return {
    async search(query, actor) {
      const { payloads, ...filters } = query;
      const page = await repository.search(filters);
      let data: (RequestLogEntry | DecryptedRequestLogEntry)[] = page.data;
      if (payloads === "plaintext") {
        const decrypter = options.decrypter;
        if (decrypter === undefined)
          throw new ModelportError("MP_UNSUPPORTED", "stored payloads cannot be decrypted here (no field cipher)");
        const decrypted = await Promise.all(page.data.map((entry) => decryptEntry(entry, decrypter)));
        const fields = decrypted.reduce((sum, item) => sum + item.fields, 0);
        if (fields > 0)
          await audit.record({
            action: "data-decrypted",
            actor,
            tenantId: query.tenantId,
            target: "request_log",
            details: {
              rows: decrypted.filter((item) => item.fields > 0).length,
              fields,
              columns: ["request_payload", "response_payload"],
              requestIds: decrypted.filter((item) => item.fields > 0).map((item) => item.entry.requestId),
            },
          });
        data = decrypted.map((item) => item.entry);
      }
      await audit.record({
        action: "data-exported",
        actor,
        tenantId: query.tenantId,
        target: "request_log",
        details: {
          rows: data.length,
          payloads: payloads === "plaintext" ? "plaintext" : "ciphertext",
          filters: {
            ...(filters.endpoint === undefined ? {} : { endpoint: filters.endpoint }),
            ...(filters.status === undefined ? {} : { status: filters.status }),
            ...(filters.from === undefined ? {} : { from: filters.from }),
            ...(filters.to === undefined ? {} : { to: filters.to }),
            ...(filters.limit === undefined ? {} : { limit: filters.limit }),
            page: filters.cursor === undefined ? "first" : "next",
          },
        },
      });
      return { data, nextCursor: page.nextCursor };
    },

    async eraseEndUser(tenantId, endUser, actor) {
      const erased = await repository.eraseEndUser(tenantId, options.endUserHash(tenantId, endUser));
      await audit.record({
        action: "data-deleted",
        actor,
        tenantId,
        target: "request_log",
        details: { rows: erased, reason: "end-user erasure" },
        // The end user's id is personal data: the trail keeps its HMAC only.
        sensitive: { endUser },
      });
      return erased;
    },
  };
}
