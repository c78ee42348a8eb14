import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Buckets from 0.5 ms to 2 min: gateway overhead sits at the low end, model latency at the high end. */
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const overheadBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

export const breakerStateValue = { closed: 0, "half-open": 1, open: 2 } as const;

/**
 * Modelport's Prometheus metrics, on a registry of their own (no global state, so tests can run
 * several servers in one process).
 */
export function createMetrics(options: { collectProcessMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.collectProcessMetrics) collectDefaultMetrics({ register: registry, prefix: "modelport_process_" });

  const requests = new Counter({
    name: "modelport_requests_total",
    help: "Requests answered, by protocol, endpoint and HTTP status.",
    labelNames: ["protocol", "endpoint", "status"] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: "modelport_request_duration_seconds",
    help: "Time from request to response headers (streams: to first chunk), by protocol and endpoint.",
    labelNames: ["protocol", "endpoint"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const overhead = new Histogram({
    name: "modelport_gateway_overhead_seconds",
    help: "Time Modelport itself adds: request duration minus time waiting on the model.",
    labelNames: ["protocol"] as const,
    buckets: overheadBuckets,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: "modelport_upstream_errors_total",
    help: "Failed calls to targets, by endpoint, target and error code.",
    labelNames: ["endpoint", "target", "code"] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: "modelport_circuit_breaker_state",
    help: "Circuit breaker state per target: 0 closed, 1 half-open, 2 open.",
    labelNames: ["endpoint", "target"] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: "modelport_tokens_total",
    help: "Tokens processed, by endpoint and direction (input/output).",
    labelNames: ["endpoint", "direction"] as const,
    registers: [registry],
  });
  const shadowRequests = new Counter({
    name: "modelport_shadow_requests_total",
    help: "Mirrored (shadow) calls, by endpoint, target and outcome (ok/error).",
    labelNames: ["endpoint", "target", "outcome"] as const,
    registers: [registry],
  });
  const shadowLatency = new Histogram({
    name: "modelport_shadow_duration_seconds",
    help: "Latency of shadow calls.",
    labelNames: ["endpoint", "target"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const shadowDiff = new Histogram({
    name: "modelport_shadow_diff_ratio",
    help: "How much a shadow answer differs from the primary's (0 same, 1 entirely different).",
    labelNames: ["endpoint", "target"] as const,
    buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "modelport_in_flight_requests",
    help: "Requests being served, streams included.",
    registers: [registry],
  });
  const cacheRequests = new Counter({
    name: "modelport_cache_requests_total",
    help: "Response-cache lookups on cached endpoints, by endpoint and result (hit, miss, bypass).",
    labelNames: ["endpoint", "result"] as const,
    registers: [registry],
  });

  const targetDuration = new Histogram({
    name: "modelport_target_request_duration_seconds",
    help: "End-to-end latency by endpoint, the target that answered and its model version (registry models).",
    labelNames: ["endpoint", "target", "version"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const errors = new Counter({
    name: "modelport_errors_total",
    help: "Failed requests by endpoint and Modelport error code (MP_RATE_LIMITED, MP_UPSTREAM_TIMEOUT, ...).",
    labelNames: ["endpoint", "code"] as const,
    registers: [registry],
  });
  const cost = new Counter({
    name: "modelport_cost_micros_total",
    help: "Billed cost in micro-units of the price currency (USD by default), by endpoint.",
    labelNames: ["endpoint"] as const,
    registers: [registry],
  });
  // Depths are read when Prometheus scrapes, from the queues themselves (no bookkeeping per request).
  const queueSources = new Map<string, () => number>();
  new Gauge({
    name: "modelport_queue_depth",
    help: "Items waiting in a background queue: ledger (usage records not yet in the database), request-log, predictions, training-jobs.",
    labelNames: ["queue"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [queue, depth] of queueSources) this.labels(queue).set(depth());
    },
  });

  return {
    registry,
    targetDuration,
    errors,
    cost,
    /** Reports a queue's depth on every scrape; a later call for the same name replaces the source. */
    watchQueue(queue: string, depth: () => number): void {
      queueSources.set(queue, depth);
    },
    requests,
    requestDuration,
    overhead,
    upstreamErrors,
    breakerState,
    tokens,
    shadowRequests,
    shadowLatency,
    shadowDiff,
    inFlight,
    cacheRequests,
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
