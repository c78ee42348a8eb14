import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../config/schema.js";
import { resolveTracingSettings } from "./settings.js";

const tracingConfig = (tracing: Record<string, unknown> = {}) => configSchema.parse({ tracing }).tracing;

describe("tracing settings", () => {
  it("is off by default, with a local collector and every trace sampled", () => {
    const config = tracingConfig();
    assert.equal(config.enabled, false);
    assert.deepEqual(resolveTracingSettings(config, {}), {
      tracesUrl: "http://127.0.0.1:4318/v1/traces",
      serviceName: "modelport",
      sampleRatio: 1,
      headers: {},
      batchDelayMs: 5_000,
    });
  });

  it("appends /v1/traces to a collector base URL, but not twice", () => {
    const base = resolveTracingSettings(tracingConfig({ otlpEndpoint: "https://otel.example:4318/" }), {});
    assert.equal(base.tracesUrl, "https://otel.example:4318/v1/traces");
    const full = resolveTracingSettings(tracingConfig({ otlpEndpoint: "https://otel.example/v1/traces" }), {});
    assert.equal(full.tracesUrl, "https://otel.example/v1/traces");
  });

  it("lets the environment win over the file, the traces-specific variable first", () => {
    const config = tracingConfig({ otlpEndpoint: "http://file:4318", serviceName: "from-file" });
    assert.equal(
      resolveTracingSettings(config, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318" }).tracesUrl,
      "http://env:4318/v1/traces",
    );
    assert.equal(
      resolveTracingSettings(config, {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
      }).tracesUrl,
      "http://traces:9999/custom",
    );
    assert.equal(
      resolveTracingSettings(config, { OTEL_EXPORTER_OTLP_ENDPOINT: "" }).tracesUrl,
      "http://file:4318/v1/traces",
    );
    assert.equal(resolveTracingSettings(config, {}).serviceName, "from-file");
    assert.equal(resolveTracingSettings(config, { OTEL_SERVICE_NAME: "from-env" }).serviceName, "from-env");
  });

  it("rejects an endpoint that is not an http(s) URL, naming where it came from", () => {
    assert.throws(
      () => resolveTracingSettings(tracingConfig(), { OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }),
      (error: Error & { code?: string }) =>
        error.code === "MP_CONFIG_INVALID" && error.message.includes("OTEL_EXPORTER_OTLP_ENDPOINT"),
    );
    assert.throws(() => resolveTracingSettings(tracingConfig(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url" }), {
      code: "MP_CONFIG_INVALID",
    });
    assert.equal(configSchema.safeParse({ tracing: { otlpEndpoint: "grpc://x:4317" } }).success, false);
    assert.equal(configSchema.safeParse({ tracing: { sampleRatio: 1.5 } }).success, false);
    assert.equal(configSchema.safeParse({ tracing: { exporter: "zipkin" } }).success, false);
  });
});
