import type { FinishedRequest } from "../gateway/context.js";
import type { Metrics } from "../monitoring/metrics.js";

/**
 * Per-request metrics that need what is only known when a request is over (the target that
 * answered, its error code, its cost). Runs in the gateway's onFinished hook, after the response.
 */
export function recordRequestMetrics(metrics: Metrics, request: FinishedRequest): void {
  const endpoint = request.endpoint;
  if (endpoint === undefined) return;
  if (request.target !== undefined)
    metrics.targetDuration
      .labels(endpoint, request.target, request.modelVersion ?? "")
      .observe(request.latencyUs / 1e6);
  if (request.errorCode !== undefined) metrics.errors.labels(endpoint, request.errorCode).inc();
  if (request.costMicros !== undefined && request.costMicros > 0) metrics.cost.labels(endpoint).inc(request.costMicros);
}
