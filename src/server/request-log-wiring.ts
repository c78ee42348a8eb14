import type { FinishedRequest } from "../gateway/context.js";
import { endUserHash } from "../monitoring/request-log/end-user.js";
import type { RequestLogEntry } from "../monitoring/request-log/types.js";

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
    costMicros: null,
    cacheHit: false,
    stream: request.stream,
    guardVerdicts: null,
    requestPayload: null,
    responsePayload: null,
  };
}
