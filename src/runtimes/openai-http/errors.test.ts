import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import {
  abortError,
  extractUpstreamMessage,
  isConnectFailure,
  parseRetryAfter,
  redact,
  transportError,
  upstreamStatusError,
} from "./errors.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds, fractional seconds and HTTP-dates", () => {
    assert.equal(parseRetryAfter({ "retry-after": "20" }, now), 20);
    assert.equal(parseRetryAfter({ "retry-after": " 0.5 " }, now), 0.5);
    assert.equal(parseRetryAfter({ "retry-after": "Wed, 01 Jan 2025 00:00:10 GMT" }, now), 10);
  });

  it("prefers retry-after-ms, clamps past dates to 0, ignores junk", () => {
    assert.equal(parseRetryAfter({ "retry-after-ms": "250", "retry-after": "9" }, now), 0.25);
    assert.equal(parseRetryAfter({ "retry-after-ms": "soon", "retry-after": "9" }, now), 9);
    assert.equal(parseRetryAfter({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }, now), 0);
    assert.equal(parseRetryAfter({ "retry-after": "-5" }, now), undefined);
    assert.equal(parseRetryAfter({ "retry-after": "whenever" }, now), undefined);
    assert.equal(parseRetryAfter({}, now), undefined);
  });
});

describe("extractUpstreamMessage", () => {
  it("understands the error bodies of OpenAI, Ollama, vLLM and FastAPI, else the raw text", () => {
    assert.equal(extractUpstreamMessage('{"error":{"message":"m1","type":"x"}}'), "m1");
    assert.equal(extractUpstreamMessage('{"error":"m2"}'), "m2");
    assert.equal(extractUpstreamMessage('{"object":"error","message":"m3"}'), "m3");
    assert.equal(extractUpstreamMessage('{"detail":"m4"}'), "m4");
    assert.equal(extractUpstreamMessage("Bad Gateway\n"), "Bad Gateway");
    assert.equal(extractUpstreamMessage("{broken"), "{broken");
    assert.equal(extractUpstreamMessage("   "), undefined);
    assert.equal(extractUpstreamMessage("x".repeat(2_000))?.length, 500);
  });
});

describe("redact", () => {
  it("removes every occurrence of the key, and leaves text alone without one", () => {
    assert.equal(redact("key sk-abc123 and sk-abc123", "sk-abc123"), "key [redacted] and [redacted]");
    assert.equal(redact("nothing here", undefined), "nothing here");
  });
});

describe("upstreamStatusError", () => {
  it("names no upstream address and keeps the redacted body as cause", () => {
    const error = upstreamStatusError(502, {}, '{"error":{"message":"bad sk-secret-1"}}', "sk-secret-1");
    assert.equal(error.code, "MP_UPSTREAM_ERROR");
    assert.equal(error.message, "upstream failed with HTTP 502: bad [redacted]");
    assert.equal((error.cause as { body: string }).body, '{"error":{"message":"bad [redacted]"}}');
  });

  it("treats an unexpected 3xx as a bad, non-retryable response", () => {
    const error = upstreamStatusError(302, {}, "", undefined);
    assert.equal(error.code, "MP_UPSTREAM_BAD_RESPONSE");
    assert.equal(error.isRetryable, false);
  });

  it("falls back to a status message when a 4xx has no body", () => {
    const error = upstreamStatusError(413, {}, "", undefined);
    assert.equal(error.code, "MP_UPSTREAM_REJECTED");
    assert.equal(error.status, 413);
    assert.match(error.message, /HTTP 413/);
  });
});

describe("transportError and abortError", () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code });

  it("maps connect failures (also inside an AggregateError) to unavailable before the response", () => {
    const aggregate = new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")], "connect");
    assert.equal(isConnectFailure(aggregate), true);
    assert.equal(transportError(aggregate, "request").code, "MP_UPSTREAM_UNAVAILABLE");
    assert.equal(transportError(withCode("UND_ERR_SOCKET"), "request").code, "MP_UPSTREAM_UNAVAILABLE");
    assert.equal(transportError(withCode("UND_ERR_SOCKET"), "response").code, "MP_UPSTREAM_ERROR");
    assert.equal(isConnectFailure(withCode("UND_ERR_SOCKET")), false);
  });

  it("maps undici timeouts to MP_UPSTREAM_TIMEOUT and keeps the cause", () => {
    for (const code of ["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]) {
      const cause = withCode(code);
      const error = transportError(cause, "request");
      assert.equal(error.code, "MP_UPSTREAM_TIMEOUT");
      assert.equal(error.cause, cause);
    }
  });

  it("passes ModelportErrors through and calls anything else internal", () => {
    const original = new ModelportError("MP_SHUTTING_DOWN", "x");
    assert.equal(transportError(original, "request"), original);
    assert.equal(transportError(new TypeError("bug"), "request").code, "MP_INTERNAL");
  });

  it("turns abort reasons into client-closed, timeout, or the given ModelportError", () => {
    assert.equal(abortError(new DOMException("gone", "AbortError")).code, "MP_CLIENT_CLOSED");
    assert.equal(abortError(undefined).code, "MP_CLIENT_CLOSED");
    assert.equal(abortError(new DOMException("late", "TimeoutError")).code, "MP_UPSTREAM_TIMEOUT");
    const shutdown = new ModelportError("MP_SHUTTING_DOWN", "draining");
    assert.equal(abortError(shutdown), shutdown);
  });
});
