import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { readSseEvents, startTestGateway, type TestGateway } from "./helpers/gateway.js";

/**
 * Opt-in OpenTelemetry traces through the real server: a loopback HTTP server plays the OTLP
 * collector (OTLP/HTTP JSON is decoded as a collector would), mock upstreams fail and recover, and
 * the spans that arrive are checked for names, parent links, attributes and W3C propagation.
 */

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: { key: string; value: AnyValue }[];
  status?: { code?: number; message?: string };
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: AnyValue }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

const spanKind = { server: 2, client: 3 };
const statusError = 2;

interface Collector {
  url: string;
  exports: { path: string; headers: IncomingHttpHeaders; body: OtlpExport; raw: string }[];
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const exports: Collector["exports"] = [];
  const server: Server = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (raw += chunk));
    request.on("end", () => {
      exports.push({ path: request.url ?? "", headers: request.headers, body: JSON.parse(raw) as OtlpExport, raw });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () =>
      exports.flatMap((item) =>
        item.body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
      ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function decodeValue(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue;
}

function attributes(span: { attributes?: { key: string; value: AnyValue }[] }): Record<string, unknown> {
  return Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, decodeValue(value)]));
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const byStart = (a: OtlpSpan, b: OtlpSpan) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano));
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe("OpenTelemetry traces over OTLP", () => {
  let collector: Collector;
  let upstream: MockOpenAIUpstream;
  let down: MockOpenAIUpstream;

  before(async () => {
    collector = await startCollector();
    upstream = await startMockOpenAIUpstream();
    down = await startMockOpenAIUpstream();
    down.setDefault(mockBehaviour.status(503, { message: "overloaded" }));
  });

  after(async () => {
    await upstream.close();
    await down.close();
    await collector.close();
  });

  describe("enabled", () => {
    let gateway: TestGateway;
    const incomingTrace = hex(16);
    const incomingParent = hex(8);
    const unsampledTrace = hex(16);
    let fallbackRequestId = "";
    let streamRequestId = "";

    before(async () => {
      upstream.reset();
      collector.exports.length = 0;
      const fast = { baseDelayMs: 1, maxDelayMs: 5 };
      gateway = await startTestGateway({
        tracing: {
          enabled: true,
          otlpEndpoint: collector.url,
          serviceName: "modelport-under-test",
          headers: { "x-collector-key": "collector-secret" },
          // Nothing leaves before shutdown: the test sees that shutdown flushes what is queued.
          batchDelayMs: 600_000,
        },
        providers: {
          up: { type: "openai", baseUrl: upstream.url },
          down: { type: "openai", baseUrl: down.url },
        },
        endpoints: {
          chat: { kind: "chat", targets: [{ provider: "up", model: "m" }], retry: { maxAttempts: 2, ...fast } },
          spill: {
            kind: "chat",
            targets: [{ provider: "down", model: "m" }],
            fallbacks: [{ provider: "up", model: "m" }],
            retry: { maxAttempts: 1, ...fast },
            breaker: { failureThreshold: 1000 },
          },
        },
      });

      // 1. A retry under the caller's trace: the first attempt gets a 503, the second answers.
      upstream.enqueue(
        mockBehaviour.status(503, { message: "try again" }),
        mockBehaviour.ok({ usage: { prompt_tokens: 7, completion_tokens: 5 } }),
      );
      const retried = await gateway.call(
        "/v1/chat/completions",
        { model: "chat", messages: [{ role: "user", content: "hello" }] },
        { headers: { traceparent: `00-${incomingTrace}-${incomingParent}-01`, "x-request-id": "req-traced-1" } },
      );
      assert.equal(retried.status, 200);
      await retried.json();

      // 2. A fallback, in a trace of its own.
      const spilled = await gateway.call("/v1/chat/completions", {
        model: "spill",
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(spilled.status, 200);
      fallbackRequestId = spilled.headers.get("x-request-id") ?? "";
      await spilled.json();

      // 3. A stream: its span ends when the stream does, with the stream's token counts.
      upstream.enqueue(
        mockBehaviour.ok({ content: "one two three", usage: { prompt_tokens: 3, completion_tokens: 4 } }),
      );
      const streamed = await gateway.call("/v1/chat/completions", {
        model: "chat",
        stream: true,
        messages: [{ role: "user", content: "hello" }],
      });
      assert.equal(streamed.status, 200);
      streamRequestId = streamed.headers.get("x-request-id") ?? "";
      const events = await readSseEvents(streamed);
      assert.equal(events.at(-1), "[DONE]");

      // 4. The caller decided not to sample: no spans, but the decision travels upstream.
      const unsampled = await gateway.call(
        "/v1/chat/completions",
        { model: "chat", messages: [{ role: "user", content: "hello" }] },
        { headers: { traceparent: `00-${unsampledTrace}-${hex(8)}-00` } },
      );
      assert.equal(unsampled.status, 200);
      await unsampled.json();

      // 5. A bad key (4xx: traced, not an error span) and a probe (not traced).
      const rejected = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: "Bearer mp-nope" } });
      assert.equal(rejected.status, 401);
      await rejected.text();
      const probe = await fetch(`${gateway.url}/v2/health/live`);
      assert.equal(probe.status, 200);
      await probe.text();

      assert.equal(collector.exports.length, 0, "spans wait in the batch until shutdown");
      await gateway.close();
    });

    it("flushes every pending span at shutdown, as OTLP/HTTP JSON with the configured headers", () => {
      assert.ok(collector.exports.length >= 1);
      for (const item of collector.exports) {
        assert.equal(item.path, "/v1/traces");
        assert.match(String(item.headers["content-type"]), /^application\/json/);
        assert.equal(item.headers["x-collector-key"], "collector-secret");
        assert.ok(!item.raw.includes(gateway.apiKey), "the API key never reaches a span");
        const resource = attributes(item.body.resourceSpans[0]?.resource ?? { attributes: [] });
        assert.equal(resource["service.name"], "modelport-under-test");
        assert.equal(typeof resource["service.version"], "string");
      }
    });

    it("makes the request a server span under the caller's traceparent, attempts as its children", () => {
      const spans = collector.spans().filter((span) => span.traceId === incomingTrace);
      const server = spans.find((span) => span.kind === spanKind.server);
      assert.ok(server, "a server span in the caller's trace");
      assert.equal(server.parentSpanId, incomingParent);
      assert.equal(server.name, "POST /v1/chat/completions");
      assert.deepEqual(attributes(server), {
        "http.request.method": "POST",
        "url.path": "/v1/chat/completions",
        "http.route": "/v1/chat/completions",
        "http.response.status_code": 200,
        "modelport.request.id": "req-traced-1",
        "modelport.endpoint": "chat",
        "modelport.target": "up/m",
        "modelport.tenant.id": gateway.tenantId,
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 5,
      });
      assert.notEqual(server.status?.code, statusError);

      const attempts = spans.filter((span) => span.kind === spanKind.client).sort(byStart);
      assert.equal(attempts.length, 2, "one span per attempt, the retry visible");
      const [failed, succeeded] = attempts as [OtlpSpan, OtlpSpan];
      for (const attempt of attempts) {
        assert.equal(attempt.parentSpanId, server.spanId);
        assert.equal(attempt.name, "upstream up/m");
        assert.ok(BigInt(attempt.endTimeUnixNano) <= BigInt(server.endTimeUnixNano));
      }
      assert.deepEqual(attributes(failed), {
        "modelport.endpoint": "chat",
        "modelport.target": "up/m",
        "modelport.attempt": 1,
        "modelport.fallback": false,
        "error.type": "MP_UPSTREAM_ERROR",
      });
      assert.equal(failed.status?.code, statusError);
      assert.deepEqual(attributes(succeeded), {
        "modelport.endpoint": "chat",
        "modelport.target": "up/m",
        "modelport.attempt": 2,
        "modelport.fallback": false,
      });
      assert.notEqual(succeeded.status?.code, statusError);

      // The upstream saw each attempt's own span as its parent, in the caller's trace.
      const seen = upstream.requests.slice(0, 2).map((request) => request.headers.traceparent);
      assert.deepEqual(seen, [`00-${incomingTrace}-${failed.spanId}-01`, `00-${incomingTrace}-${succeeded.spanId}-01`]);
    });

    it("shows a fallback as a second attempt span on the fallback target", () => {
      const server = collector
        .spans()
        .find(
          (span) => span.kind === spanKind.server && attributes(span)["modelport.request.id"] === fallbackRequestId,
        );
      assert.ok(server);
      assert.equal(server.parentSpanId ?? "", "", "no caller trace: a root span");
      assert.notEqual(server.traceId, incomingTrace);
      assert.equal(attributes(server)["modelport.target"], "up/m");
      const attempts = collector
        .spans()
        .filter((span) => span.parentSpanId === server.spanId)
        .sort(byStart);
      assert.deepEqual(
        attempts.map((span) => [span.name, attributes(span)["modelport.fallback"], attributes(span)["error.type"]]),
        [
          ["upstream down/m", false, "MP_UPSTREAM_ERROR"],
          ["upstream up/m", true, undefined],
        ],
      );
      const downSaw = down.requests.at(-1)?.headers.traceparent;
      assert.equal(downSaw, `00-${server.traceId}-${attempts[0]?.spanId}-01`);
    });

    it("ends a stream's span when the stream ends, with its usage", () => {
      const server = collector
        .spans()
        .find((span) => span.kind === spanKind.server && attributes(span)["modelport.request.id"] === streamRequestId);
      assert.ok(server);
      const found = attributes(server);
      assert.equal(found["http.response.status_code"], 200);
      assert.equal(found["gen_ai.usage.input_tokens"], 3);
      assert.equal(found["gen_ai.usage.output_tokens"], 4);
      assert.equal(collector.spans().filter((span) => span.parentSpanId === server.spanId).length, 1);
    });

    it("records nothing for a trace the caller did not sample, yet passes its context upstream", () => {
      assert.equal(collector.spans().filter((span) => span.traceId === unsampledTrace).length, 0);
      const sent = upstream.requests.map((request) => String(request.headers.traceparent ?? ""));
      const match = sent.map((value) => traceparentPattern.exec(value)).find((found) => found?.[1] === unsampledTrace);
      assert.ok(match, "the upstream got a traceparent of the unsampled trace");
      assert.equal(match[3], "00");
    });

    it("traces a rejected request without marking it failed, and leaves probes out", () => {
      const rejected = collector
        .spans()
        .find((span) => span.kind === spanKind.server && attributes(span)["http.response.status_code"] === 401);
      assert.ok(rejected);
      assert.equal(rejected.name, "GET /v1/models");
      assert.equal(attributes(rejected)["modelport.error.code"], "MP_UNAUTHORIZED");
      assert.notEqual(rejected.status?.code, statusError);
      assert.equal(
        collector.spans().filter((span) => String(attributes(span)["url.path"]).startsWith("/v2/health")).length,
        0,
      );
    });
  });

  describe("disabled", () => {
    it("sends nothing and propagates nothing, even with a collector configured", async () => {
      collector.exports.length = 0;
      upstream.reset();
      const gateway = await startTestGateway(
        {
          tracing: { enabled: false, otlpEndpoint: collector.url, batchDelayMs: 1 },
          providers: { up: { type: "openai", baseUrl: upstream.url } },
          endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
        },
        { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url } },
      );
      try {
        for (let index = 0; index < 3; index++) {
          const response = await gateway.call(
            "/v1/chat/completions",
            { model: "chat", messages: [{ role: "user", content: "hello" }] },
            { headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } },
          );
          assert.equal(response.status, 200);
          await response.json();
        }
      } finally {
        await gateway.close();
      }
      // batchDelayMs 1 would have exported long before now had a tracer existed.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(collector.exports.length, 0);
      assert.equal(upstream.requests.length, 3);
      for (const request of upstream.requests) assert.equal(request.headers.traceparent, undefined);
    });
  });
});
