/**
 * Opt-in OpenTelemetry traces (config `tracing.enabled`), exported over OTLP/HTTP JSON:
 *
 *   const tracing = config.tracing.enabled
 *     ? await startTracing(resolveTracingSettings(config.tracing, settings.env), { version, onExportError })
 *     : undefined;
 *   createGatewayApp({ …, tracing });   // one server span per request (trace-requests.ts)
 *   await tracing?.shutdown();          // in the drain path: exports what is still queued
 *
 * The router makes one child span per upstream attempt and hands its traceparent to the runtime
 * (InvokeContext.traceHeaders), which openai-http sends upstream. With tracing off the SDK is
 * never even loaded: the OpenTelemetry modules are imported here, on demand.
 */
import type { Tracing, TracingOptions } from "./otel-tracing.js";
import type { TracingSettings } from "./settings.js";

export type { Tracing, TracingOptions } from "./otel-tracing.js";
export type {
  AttemptInfo,
  AttemptTrace,
  RequestOutcome,
  RequestTrace,
  RequestTracer,
  ServerTrace,
} from "./request-trace.js";
export { resolveTracingSettings, type TracingSettings } from "./settings.js";
export { spanAttributes } from "./span-attributes.js";
export { traceRequests } from "./trace-requests.js";

export async function startTracing(settings: TracingSettings, options: TracingOptions): Promise<Tracing> {
  const { createOtelTracing } = await import("./otel-tracing.js");
  return createOtelTracing(settings, options);
}
