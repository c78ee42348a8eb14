import {
  type Context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
} from "@opentelemetry/semantic-conventions";
import { ReportingExporter } from "./reporting-exporter.js";
import type { AttemptInfo, AttemptTrace, RequestOutcome, RequestTracer, ServerTrace } from "./request-trace.js";
import type { TracingSettings } from "./settings.js";
import { spanAttributes } from "./span-attributes.js";

/** The tracer and the way to stop it: `shutdown` exports every span still queued. */
export interface Tracing extends RequestTracer {
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** service.version of every span. */
  version: string;
  /** An export failed; called at most once a minute, with the spans lost since the last report. */
  onExportError?: (error: Error, lostSpans: number) => void;
}

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

/**
 * Give up on one export after this long, retries included. It also bounds what a dead collector
 * adds to a shutdown (the exporter retries a refused connection until then).
 */
const exportTimeoutMs = 5_000;

const propagator = new W3CTraceContextPropagator();

const requestHeaders: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => {
    const names: string[] = [];
    carrier.forEach((_value, name) => {
      names.push(name);
    });
    return names;
  },
};

class OtelAttemptTrace implements AttemptTrace {
  readonly headers: Record<string, string> = {};
  private ended = false;

  constructor(private readonly span: Span) {
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), this.headers, defaultTextMapSetter);
  }

  end(error: { code: string; message: string } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (error) {
      this.span.setAttribute(ATTR_ERROR_TYPE, error.code);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    this.span.end();
  }
}

class OtelServerTrace implements ServerTrace {
  private readonly context: Context;
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly method: string,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  startAttempt(info: AttemptInfo): AttemptTrace {
    const span = this.tracer.startSpan(
      `upstream ${info.target}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [spanAttributes.endpoint]: info.endpoint,
          [spanAttributes.target]: info.target,
          [spanAttributes.attempt]: info.attempt,
          [spanAttributes.fallback]: info.fallback,
        },
      },
      this.context,
    );
    return new OtelAttemptTrace(span);
  }

  end(outcome: RequestOutcome): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (outcome.route !== undefined) {
      span.updateName(`${this.method} ${outcome.route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, outcome.route);
    }
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
    span.setAttribute(spanAttributes.requestId, outcome.requestId);
    if (outcome.endpoint !== undefined) span.setAttribute(spanAttributes.endpoint, outcome.endpoint);
    if (outcome.target !== undefined) span.setAttribute(spanAttributes.target, outcome.target);
    if (outcome.tenantId !== undefined) span.setAttribute(spanAttributes.tenantId, outcome.tenantId);
    if (outcome.inputTokens !== undefined) span.setAttribute(spanAttributes.inputTokens, outcome.inputTokens);
    if (outcome.outputTokens !== undefined) span.setAttribute(spanAttributes.outputTokens, outcome.outputTokens);
    if (outcome.cacheHit !== undefined) span.setAttribute(spanAttributes.cacheHit, outcome.cacheHit);
    if (outcome.errorCode !== undefined) {
      span.setAttribute(spanAttributes.errorCode, outcome.errorCode);
      // As the HTTP conventions say for servers: a 4xx is the caller's problem, not a failed span.
      // A stream that broke off after its 200 did fail.
      if (outcome.status >= 500 || outcome.status < 400) {
        span.setAttribute(ATTR_ERROR_TYPE, outcome.errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } else if (outcome.status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(outcome.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

/**
 * OpenTelemetry behind the tracing ports: a tracer provider of its own (nothing registered
 * globally, so several gateways in one process, as in tests, keep their spans apart), a
 * parent-based ratio sampler, and a batch processor exporting OTLP/HTTP JSON. Loaded only when
 * tracing is enabled (index.ts imports this module dynamically).
 */
export function createOtelTracing(settings: TracingSettings, options: TracingOptions): Tracing {
  const exporter = new OTLPTraceExporter({
    url: settings.tracesUrl,
    headers: { ...settings.headers },
    timeoutMillis: exportTimeoutMs,
    // Explicit, so OTEL_EXPORTER_OTLP_COMPRESSION in the environment cannot change the wire format.
    compression: "none" as ExporterConfig["compression"],
  });
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: settings.serviceName,
        [ATTR_SERVICE_VERSION]: options.version,
      }),
    ),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new ReportingExporter(exporter, options.onExportError), {
        scheduledDelayMillis: settings.batchDelayMs,
        exportTimeoutMillis: exportTimeoutMs,
      }),
    ],
  });
  const tracer = provider.getTracer("modelport", options.version);

  return {
    startRequest(method, path, headers) {
      const parent = headers.has("traceparent")
        ? propagator.extract(ROOT_CONTEXT, headers, requestHeaders)
        : ROOT_CONTEXT;
      const span = tracer.startSpan(
        method,
        { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_PATH]: path } },
        parent,
      );
      return new OtelServerTrace(tracer, span, method);
    },
    shutdown: () => provider.shutdown(),
  };
}
