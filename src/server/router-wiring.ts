import type { Clock } from "../core/clock.js";
import type { ChatCompletion } from "../core/openai-types.js";
import { createRouter, type Router } from "../gateway/resilience/router.js";
import { breakerStateValue, type Metrics } from "../monitoring/metrics.js";
import type { Logger } from "./logger.js";

/**
 * How different a shadow's answer is from the primary's, 0 (same) … 1: for chat, one minus the
 * Jaccard similarity of the answers' word sets; for anything else, whether the JSON differs.
 */
export function answerDifference(primary: unknown, shadow: unknown): number {
  const text = (value: unknown) => (value as ChatCompletion)?.choices?.[0]?.message?.content;
  const a = text(primary);
  const b = text(shadow);
  if (typeof a === "string" && typeof b === "string") {
    const wordsA = new Set(a.toLowerCase().split(/\s+/).filter(Boolean));
    const wordsB = new Set(b.toLowerCase().split(/\s+/).filter(Boolean));
    if (wordsA.size === 0 && wordsB.size === 0) return 0;
    let shared = 0;
    for (const word of wordsA) if (wordsB.has(word)) shared++;
    return 1 - shared / (wordsA.size + wordsB.size - shared);
  }
  const outputs = (value: unknown) => JSON.stringify((value as { outputs?: unknown })?.outputs ?? value);
  return outputs(primary) === outputs(shadow) ? 0 : 1;
}

/** The router with its hooks wired to metrics and logs. */
export function createGatewayRouter(options: { metrics: Metrics; logger: Logger; clock: Clock }): Router {
  const { metrics, logger } = options;
  return createRouter({
    clock: options.clock,
    compare: answerDifference,
    onAttempt: (event) => {
      if (!event.ok)
        metrics.upstreamErrors.labels(event.endpoint, event.target, event.errorCode ?? "MP_INTERNAL").inc();
    },
    onBreakerStateChange: (event) => {
      if (event.shadow) return;
      metrics.breakerState.labels(event.endpoint, event.target).set(breakerStateValue[event.to]);
      logger.warn(
        { endpoint: event.endpoint, target: event.target, from: event.from, to: event.to },
        "circuit breaker changed state",
      );
    },
    onShadowResult: (result) => {
      metrics.shadowRequests.labels(result.endpoint, result.target, result.ok ? "ok" : "error").inc();
      metrics.shadowLatency.labels(result.endpoint, result.target).observe(result.latencyMs / 1000);
      if (result.diff !== undefined) metrics.shadowDiff.labels(result.endpoint, result.target).observe(result.diff);
      logger.info(
        {
          requestId: result.requestId,
          endpoint: result.endpoint,
          shadowTarget: result.target,
          latencyMs: Math.round(result.latencyMs),
          ok: result.ok,
          errorCode: result.errorCode,
          diff: result.diff,
        },
        "shadow result",
      );
    },
  });
}
