import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createOtelTracing } from "./otel-tracing.js";
import type { RequestOutcome } from "./request-trace.js";

/** The tracer against a real loopback collector whose answer each test chooses. */

interface Received {
  status: number;
  traceIds: string[];
}

let answerWith = 200;
const received: Received[] = [];
let server: Server;
let collectorUrl = "";

const outcome: RequestOutcome = {
  status: 200,
  route: "/v1/chat/completions",
  requestId: "req-1",
  endpoint: undefined,
  target: undefined,
  tenantId: undefined,
  inputTokens: undefined,
  outputTokens: undefined,
  cacheHit: true,
  errorCode: undefined,
};

const settings = (overrides: { sampleRatio?: number; batchDelayMs?: number } = {}) => ({
  tracesUrl: `${collectorUrl}/v1/traces`,
  serviceName: "unit",
  sampleRatio: overrides.sampleRatio ?? 1,
  headers: {},
  batchDelayMs: overrides.batchDelayMs ?? 600_000,
});

before(async () => {
  server = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (raw += chunk));
    request.on("end", () => {
      const body = JSON.parse(raw) as {
        resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[];
      };
      const traceIds = body.resourceSpans.flatMap((resource) =>
        resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => span.traceId)),
      );
      received.push({ status: answerWith, traceIds });
      response.writeHead(answerWith, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  collectorUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("OpenTelemetry tracer", () => {
  it("samples new traces by ratio but follows a caller's sampled flag", async () => {
    received.length = 0;
    answerWith = 200;
    const tracing = createOtelTracing(settings({ sampleRatio: 0 }), { version: "test" });
    const sampledTrace = randomBytes(16).toString("hex");
    const unsampled = tracing.startRequest("POST", "/v1/chat/completions", new Headers());
    const attempt = unsampled.startAttempt({ endpoint: "e", target: "t", attempt: 1, fallback: false });
    assert.match(
      attempt.headers.traceparent ?? "",
      /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/,
      "not sampled, still propagated",
    );
    attempt.end(undefined);
    unsampled.end(outcome);
    const headers = new Headers({ traceparent: `00-${sampledTrace}-${randomBytes(8).toString("hex")}-01` });
    tracing.startRequest("POST", "/v1/chat/completions", headers).end(outcome);
    await tracing.shutdown();
    assert.deepEqual(
      received.flatMap((item) => item.traceIds),
      [sampledTrace],
    );
  });

  it("ignores a malformed traceparent and starts a trace of its own", async () => {
    received.length = 0;
    answerWith = 200;
    const tracing = createOtelTracing(settings(), { version: "test" });
    const span = tracing.startRequest("GET", "/", new Headers({ traceparent: "00-zz-not-a-trace-01" }));
    const attempt = span.startAttempt({ endpoint: "e", target: "t", attempt: 1, fallback: false });
    assert.match(attempt.headers.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    attempt.end({ code: "MP_UPSTREAM_ERROR", message: "boom" });
    attempt.end(undefined); // idempotent
    span.end(outcome);
    span.end(outcome);
    await tracing.shutdown();
    assert.equal(received.flatMap((item) => item.traceIds).length, 2, "a server span and one attempt, once each");
  });

  it("reports a collector that refuses the export, and still shuts down", async () => {
    received.length = 0;
    answerWith = 400;
    const reports: [string, number][] = [];
    const tracing = createOtelTracing(settings({ batchDelayMs: 10 }), {
      version: "test",
      onExportError: (error, lostSpans) => reports.push([error.message, lostSpans]),
    });
    tracing.startRequest("GET", "/", new Headers()).end(outcome);
    const deadline = Date.now() + 5_000;
    while (reports.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.[1], 1);
    assert.equal(received[0]?.status, 400);
    await tracing.shutdown();
  });
});
