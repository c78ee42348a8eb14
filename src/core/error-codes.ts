/**
 * The one list of Modelport error codes. Every error a client or operator can see carries one of
 * these codes; the code, not the message, is what scripts should match on. Codes are stable:
 * add new ones, never rename or reuse one.
 */
export interface ErrorCodeSpec {
  /** HTTP status used when the error reaches a client. */
  readonly status: number;
  /** Whether trying again (the same or another target) can succeed. */
  readonly retryable: boolean;
  /** OpenAI's `error.type` for this kind of failure. */
  readonly openaiType: string;
}

const spec = (status: number, retryable: boolean, openaiType: string): ErrorCodeSpec => ({
  status,
  retryable,
  openaiType,
});

export const errorCodes = {
  MP_INVALID_JSON: spec(400, false, "invalid_request_error"),
  MP_INVALID_REQUEST: spec(400, false, "invalid_request_error"),
  MP_WRONG_ENDPOINT_KIND: spec(400, false, "invalid_request_error"),
  MP_UNSUPPORTED: spec(400, false, "invalid_request_error"),
  MP_UNAUTHORIZED: spec(401, false, "invalid_request_error"),
  MP_FORBIDDEN: spec(403, false, "permission_error"),
  MP_UNKNOWN_MODEL: spec(404, false, "invalid_request_error"),
  MP_NOT_FOUND: spec(404, false, "invalid_request_error"),
  MP_CONFLICT: spec(409, false, "invalid_request_error"),
  MP_BODY_TOO_LARGE: spec(413, false, "invalid_request_error"),
  MP_RATE_LIMITED: spec(429, true, "rate_limit_error"),
  MP_UPSTREAM_RATE_LIMITED: spec(429, true, "rate_limit_error"),
  MP_UPSTREAM_REJECTED: spec(400, false, "invalid_request_error"),
  MP_UPSTREAM_ERROR: spec(502, true, "api_error"),
  MP_UPSTREAM_BAD_RESPONSE: spec(502, true, "api_error"),
  MP_UPSTREAM_UNAVAILABLE: spec(503, true, "api_error"),
  MP_UPSTREAM_TIMEOUT: spec(504, true, "timeout"),
  MP_CIRCUIT_OPEN: spec(503, true, "api_error"),
  MP_MODEL_NOT_READY: spec(503, true, "api_error"),
  MP_RUNTIME_ERROR: spec(500, false, "api_error"),
  MP_SHUTTING_DOWN: spec(503, true, "api_error"),
  MP_CONFIG_INVALID: spec(500, false, "api_error"),
  MP_STORAGE_ERROR: spec(500, true, "api_error"),
  MP_INTERNAL: spec(500, false, "api_error"),
  /** The caller went away (client disconnected or cancelled) before the call finished. */
  MP_CLIENT_CLOSED: spec(499, false, "api_error"),
  /** The tenant's data key was destroyed (crypto-shredding): the data is gone for good. */
  MP_KEY_DESTROYED: spec(410, false, "invalid_request_error"),
  /** Stored ciphertext failed authentication: tampered, truncated, or moved to another row. */
  MP_DECRYPT_FAILED: spec(500, false, "api_error"),
  /** The audit trail's hash chain or a signed checkpoint does not verify. */
  MP_AUDIT_BROKEN: spec(500, false, "api_error"),
  /** The shared rate limiter (Redis) cannot be reached, so admission cannot be decided. */
  MP_LIMITER_UNAVAILABLE: spec(503, true, "api_error"),
  /** A drift check found dataset drift and the caller asked for that to fail (`--fail-on-drift`). */
  MP_DRIFT_DETECTED: spec(409, false, "invalid_request_error"),
  /** A registry promotion was refused by the gate (worse than the alias's current version, or not comparable). */
  MP_PROMOTION_REFUSED: spec(409, false, "invalid_request_error"),
  /** A registered model artifact no longer matches its recorded sha256 (modified or truncated on disk). */
  MP_ARTIFACT_MODIFIED: spec(500, false, "api_error"),
  MP_PII_BLOCKED: spec(400, false, "invalid_request_error"),
  /** An input guard (prompt injection, caps) blocked the request; the message names the rules. */
  MP_GUARD_BLOCKED: spec(400, false, "invalid_request_error"),
  MP_BUDGET_EXCEEDED: spec(429, false, "insufficient_quota"),
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof errorCodes;
