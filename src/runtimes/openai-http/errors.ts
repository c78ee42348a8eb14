import { ModelportError } from "../../core/errors.js";

/**
 * Maps what can go wrong with an OpenAI-compatible upstream to Modelport errors. Messages are
 * what a client may see, so they never carry the upstream's address or our API key; the
 * original failure stays on `cause` for logs.
 */

/** The cause attached to errors made from an upstream HTTP status. */
export class UpstreamHttpError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string) {
    super(`upstream answered HTTP ${status}`);
    this.name = "UpstreamHttpError";
    this.status = status;
    this.body = body;
  }
}

type HeaderValue = string | string[] | undefined;
type Headers = Record<string, HeaderValue>;

function firstHeader(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait before retrying, from `retry-after-ms` (OpenAI's, more precise) or
 * `Retry-After` (delta-seconds or an HTTP-date). Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const milliseconds = firstHeader(headers["retry-after-ms"]);
  if (milliseconds !== undefined) {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value / 1000;
  }
  const retryAfter = firstHeader(headers["retry-after"])?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter);
  // HTTP-dates start with the day name; Date.parse would also accept things like "-5".
  if (!/^[A-Za-z]/.test(retryAfter)) return undefined;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

const maxMessageLength = 500;

/** Replaces every occurrence of the secret; upstreams sometimes echo the key they were given. */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 && text.includes(secret) ? text.split(secret).join("[redacted]") : text;
}

/**
 * The human message in an upstream error body: OpenAI/llama.cpp/Ollama `{"error":{"message"}}`,
 * `{"error":"..."}`, vLLM `{"message"}`, FastAPI `{"detail"}`; else the (shortened) raw text.
 */
export function extractUpstreamMessage(body: string): string | undefined {
  const text = body.trim();
  if (text.length === 0) return undefined;
  if (text.charCodeAt(0) === 123 /* "{" */) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const error = parsed.error;
      if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string")
        return (error as { message: string }).message.slice(0, maxMessageLength);
      if (typeof error === "string") return error.slice(0, maxMessageLength);
      if (typeof parsed.message === "string") return parsed.message.slice(0, maxMessageLength);
      if (typeof parsed.detail === "string") return parsed.detail.slice(0, maxMessageLength);
    } catch {
      // not JSON after all: fall through to the raw text
    }
  }
  return text.slice(0, maxMessageLength);
}

/** A non-2xx upstream response as a ModelportError (the table is in this folder's README.md). */
export function upstreamStatusError(
  status: number,
  headers: Headers,
  body: string,
  apiKey: string | undefined,
): ModelportError {
  const cause = new UpstreamHttpError(status, redact(body, apiKey));
  const upstreamMessage = redact(extractUpstreamMessage(body) ?? "", apiKey);
  const detail = upstreamMessage ? `: ${upstreamMessage}` : "";
  if (status === 429) {
    return new ModelportError("MP_UPSTREAM_RATE_LIMITED", `upstream rate limited the request${detail}`, {
      cause,
      retryAfterSeconds: parseRetryAfter(headers),
    });
  }
  if (status === 401 || status === 403) {
    // The client's key was fine; the upstream refused ours. A configuration problem, not the client's.
    return new ModelportError("MP_UPSTREAM_ERROR", "upstream rejected Modelport's credentials", {
      cause,
      status: 502,
      retryable: false,
    });
  }
  if (status === 408 || status === 409 || status >= 500) {
    return new ModelportError("MP_UPSTREAM_ERROR", `upstream failed with HTTP ${status}${detail}`, {
      cause,
      retryAfterSeconds: parseRetryAfter(headers),
    });
  }
  if (status >= 400) {
    // The upstream found the request itself wrong: pass its status and message through.
    return new ModelportError(
      "MP_UPSTREAM_REJECTED",
      upstreamMessage || `upstream rejected the request (HTTP ${status})`,
      {
        cause,
        status,
      },
    );
  }
  return new ModelportError("MP_UPSTREAM_BAD_RESPONSE", `upstream answered with unexpected HTTP ${status}`, {
    cause,
    retryable: false,
  });
}

function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Node's happy-eyeballs connect reports an AggregateError of the per-address failures.
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined;
}

const connectFailureCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** True when the failure happened opening a connection (counts against readiness). */
export function isConnectFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && connectFailureCodes.has(code);
}

const timeoutMessages: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: "upstream connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "upstream did not start answering in time",
  UND_ERR_BODY_TIMEOUT: "upstream stopped sending in the middle of the response",
};

/**
 * A transport failure (no HTTP status) as a ModelportError. `phase` says whether the response
 * had started: before it, the upstream is unavailable (another target may do); after it, the
 * response broke off.
 */
export function transportError(error: unknown, phase: "request" | "response"): ModelportError {
  if (error instanceof ModelportError) return error;
  const code = errorCode(error);
  if (code !== undefined) {
    const timeout = timeoutMessages[code];
    if (timeout) return new ModelportError("MP_UPSTREAM_TIMEOUT", timeout, { cause: error });
    if (phase === "response") {
      return new ModelportError("MP_UPSTREAM_ERROR", `upstream response broke off (${code})`, { cause: error });
    }
    return new ModelportError("MP_UPSTREAM_UNAVAILABLE", `upstream unavailable (${code})`, { cause: error });
  }
  return new ModelportError("MP_INTERNAL", "calling the upstream failed unexpectedly", { cause: error });
}

/**
 * The error for an aborted call, from the abort reason: a ModelportError reason is kept (the
 * gateway may abort with MP_SHUTTING_DOWN or its own timeout), a TimeoutError means a deadline,
 * anything else means the caller went away.
 */
export function abortError(reason: unknown): ModelportError {
  if (reason instanceof ModelportError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new ModelportError("MP_UPSTREAM_TIMEOUT", "upstream call timed out", { cause: reason });
  }
  return new ModelportError("MP_CLIENT_CLOSED", "the caller cancelled the request", { cause: reason });
}
