/**
 * The tracing ports the gateway sees. They carry no OpenTelemetry types, so the pipeline, the
 * router and the runtimes never load the SDK; with tracing off none of these objects exist (the
 * middleware is not installed and `trace` is undefined everywhere).
 */

/** What the router knows about one upstream attempt when it starts it. */
export interface AttemptInfo {
  endpoint: string;
  target: string;
  /** 1-based try number on this target (retries count up). */
  attempt: number;
  /** True when the target is not the request's first choice (spill-over or configured fallback). */
  fallback: boolean;
}

/** One upstream attempt's span. */
export interface AttemptTrace {
  /** Headers that make the upstream's spans children of this attempt (W3C traceparent, tracestate). */
  readonly headers: Readonly<Record<string, string>>;
  /** Ends the span; a failed attempt names its ModelportError code. Idempotent. */
  end(error: { code: string; message: string } | undefined): void;
}

/** One request's trace, handed to the router so that each upstream attempt becomes a child span. */
export interface RequestTrace {
  startAttempt(info: AttemptInfo): AttemptTrace;
}

/** What is known about a request when it is over. */
export interface RequestOutcome {
  status: number;
  /** The matched route pattern, e.g. /v2/models/:model/infer; undefined when nothing matched. */
  route: string | undefined;
  requestId: string;
  endpoint: string | undefined;
  target: string | undefined;
  tenantId: string | undefined;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cacheHit: boolean | undefined;
  errorCode: string | undefined;
}

/** The server span of one request. */
export interface ServerTrace extends RequestTrace {
  /** Ends the span with the request's outcome. Idempotent. */
  end(outcome: RequestOutcome): void;
}

/** Starts server spans; built by `startTracing` only when tracing is enabled. */
export interface RequestTracer {
  /** Starts a request's server span, a child of the caller's span when it sent a valid traceparent. */
  startRequest(method: string, path: string, headers: Headers): ServerTrace;
}
