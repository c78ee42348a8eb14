import type { ModelportConfig } from "../../config/schema.js";
import { ModelportError } from "../../core/errors.js";

export interface TracingSettings {
  /** Where spans are POSTed (OTLP/HTTP JSON), ending in /v1/traces. */
  tracesUrl: string;
  serviceName: string;
  sampleRatio: number;
  headers: Readonly<Record<string, string>>;
  batchDelayMs: number;
}

const defaultCollector = "http://127.0.0.1:4318";
const tracesPath = "/v1/traces";

/** A collector base URL gets /v1/traces appended (as OTEL_EXPORTER_OTLP_ENDPOINT does); a full one is kept. */
function tracesUrlFrom(base: string): string {
  const trimmed = base.replace(/\/+$/, "");
  return trimmed.endsWith(tracesPath) ? trimmed : `${trimmed}${tracesPath}`;
}

function checkedUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ModelportError("MP_CONFIG_INVALID", `${source} is not a URL: '${url}'`, { cause });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new ModelportError("MP_CONFIG_INVALID", `${source} must be an http(s) URL, got '${url}'`);
  return url;
}

/**
 * The exporter's settings from the `tracing` config section and the environment (the record that
 * src/config read; this module never touches process.env). As everywhere in Modelport, the
 * environment wins over the file: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), then
 * OTEL_EXPORTER_OTLP_ENDPOINT (a base URL), then `otlpEndpoint`; OTEL_SERVICE_NAME over `serviceName`.
 */
export function resolveTracingSettings(
  config: ModelportConfig["tracing"],
  env: Readonly<Record<string, string | undefined>>,
): TracingSettings {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined;
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  let tracesUrl: string;
  if (tracesEndpoint) tracesUrl = checkedUrl(tracesEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  else if (baseEndpoint) tracesUrl = tracesUrlFrom(checkedUrl(baseEndpoint, "OTEL_EXPORTER_OTLP_ENDPOINT"));
  else tracesUrl = tracesUrlFrom(config.otlpEndpoint ?? defaultCollector);
  return {
    tracesUrl,
    serviceName: env.OTEL_SERVICE_NAME || config.serviceName || "modelport",
    sampleRatio: config.sampleRatio,
    headers: config.headers,
    batchDelayMs: config.batchDelayMs,
  };
}
