/** One gateway request as the request log keeps it. Times ISO-8601 UTC; durations in microseconds. */
export interface RequestLogEntry {
  requestId: string;
  time: string;
  tenantId: string | null;
  keyId: string | null;
  /** Keyed hash of the end user (OpenAI `user` or x-modelport-user), never the id itself. */
  endUserHash: string | null;
  protocol: string;
  method: string;
  path: string;
  endpoint: string | null;
  target: string | null;
  modelVersion: string | null;
  status: number;
  errorCode: string | null;
  latencyUs: number;
  overheadUs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  costMicros: number | null;
  cacheHit: boolean;
  stream: boolean;
  guardVerdicts: unknown[] | null;
  /** Ciphertext (or null): payloads are only kept when switched on, and never in plaintext. */
  requestPayload: string | null;
  responsePayload: string | null;
}

export interface RequestLogQuery {
  tenantId?: string | undefined;
  endpoint?: string | undefined;
  status?: number | undefined;
  /** Inclusive lower bound, ISO-8601. */
  from?: string | undefined;
  /** Exclusive upper bound, ISO-8601. */
  to?: string | undefined;
  limit?: number | undefined;
  /** Opaque cursor from a previous page. */
  cursor?: string | undefined;
}
