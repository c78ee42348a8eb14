import type { RequestLogAdmin } from "../gateway/admin/routes.js";
import type { FinishedRequest } from "../gateway/context.js";
import { createAuditedRequestLog, type PayloadDecrypter } from "../monitoring/request-log/audited-access.js";
import { endUserHash } from "../monitoring/request-log/end-user.js";
import type { RequestLogRepository } from "../monitoring/request-log/repository.js";
import type { RequestLogEntry } from "../monitoring/request-log/types.js";
import type { AuditRecorder } from "../privacy/audit/audit-types.js";

/** Turns a finished gateway request into its request-log entry (no payloads, end user hashed). */
export function requestLogEntry(request: FinishedRequest, endUserKey: Buffer): RequestLogEntry {
  const tenantId = request.principal?.tenantId ?? null;
  return {
    requestId: request.requestId,
    time: request.time,
    tenantId,
    keyId: request.principal?.keyId ?? null,
    endUserHash: tenantId && request.endUser ? endUserHash(endUserKey, tenantId, request.endUser) : null,
    protocol: request.protocol,
    method: request.method,
    path: request.path,
    endpoint: request.endpoint ?? null,
    target: request.target ?? null,
    modelVersion: null,
    status: request.status,
    errorCode: request.errorCode ?? null,
    latencyUs: request.latencyUs,
    overheadUs: request.overheadUs,
    inputTokens: request.usage?.inputTokens ?? null,
    outputTokens: request.usage?.outputTokens ?? null,
    costMicros: request.costMicros ?? null,
    cacheHit: request.cacheHit === true,
    stream: request.stream,
    guardVerdicts:
      request.piiFound?.length || request.guardFindings?.length
        ? [
            ...(request.piiFound?.length ? [{ guard: "pii", types: request.piiFound }] : []),
            ...(request.guardFindings ?? []),
          ]
        : null,
    requestPayload: null,
    responsePayload: null,
  };
}

/**
 * Seals the prompt and answer into the entry with the tenant's data key (AES-256-GCM, bound to
 * table, row and column), so stored payloads are never plaintext. Requests without a tenant keep
 * no payload.
 */
export async function withEncryptedPayloads(
  entry: RequestLogEntry,
  request: FinishedRequest,
  encrypt: (
    context: { tenantId: string; table: string; rowId: string; column: string },
    text: string,
  ) => Promise<string>,
): Promise<RequestLogEntry> {
  if (!entry.tenantId) return entry;
  const seal = (column: string, text: string | undefined) =>
    text === undefined
      ? Promise.resolve(null)
      : encrypt({ tenantId: entry.tenantId as string, table: "request_log", rowId: entry.requestId, column }, text);
  const [requestPayload, responsePayload] = await Promise.all([
    seal("request_payload", request.promptLogText),
    seal("response_payload", request.answerLogText),
  ]);
  return { ...entry, requestPayload, responsePayload };
}

/**
 * The admin API's view of the request log: searches (exports), plaintext payload reads
 * (decryptions) and end-user erasures (deletions), each recorded on the audit trail.
 */
export function createRequestLogAdmin(options: {
  repository: RequestLogRepository;
  endUserKey: Buffer;
  audit: AuditRecorder;
  /** The field cipher that sealed the payloads (withEncryptedPayloads). */
  cipher?: PayloadDecrypter | undefined;
}): RequestLogAdmin {
  return createAuditedRequestLog({
    repository: options.repository,
    audit: options.audit,
    decrypter: options.cipher,
    endUserHash: (tenantId, endUser) => endUserHash(options.endUserKey, tenantId, endUser),
  });
}

/**
 * Turns finished requests into request-log entries: end users keyed-hashed, payloads (when the
 * config keeps them) sealed first. `sealed()` resolves once every entry still being encrypted has
 * reached the writer, so shutdown can flush after it.
 */
export function createRequestLogRecorder(options: {
  writer: { append(entry: RequestLogEntry): void };
  endUserKey: Buffer;
  /** requestLog.payloads: store the (PII-filtered) prompt and answer, encrypted. */
  payloads: boolean;
  encrypt: Parameters<typeof withEncryptedPayloads>[2];
  onSealError: (error: unknown) => void;
}) {
  const sealing = new Set<Promise<void>>();
  return {
    record(request: FinishedRequest): void {
      const entry = requestLogEntry(request, options.endUserKey);
      if (!options.payloads) {
        options.writer.append(entry);
        return;
      }
      const pending = withEncryptedPayloads(entry, request, options.encrypt)
        .then((sealed) => options.writer.append(sealed), options.onSealError)
        .finally(() => sealing.delete(pending));
      sealing.add(pending);
    },
    async sealed(): Promise<void> {
      await Promise.allSettled([...sealing]);
    },
  };
}
