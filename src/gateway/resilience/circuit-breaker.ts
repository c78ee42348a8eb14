import { type Clock, systemClock } from "../../core/clock.js";

/**
 * A per-target circuit breaker (closed → open → half-open → closed).
 *
 * - closed: every request passes; `failureThreshold` consecutive failures open the circuit.
 * - open: requests are refused until `cooldownMs` has passed since opening; then the next
 *   `tryAcquire` moves it to half-open.
 * - half-open: at most `halfOpenMaxRequests` probes run at once; the first success closes the
 *   circuit, a failure reopens it with a fresh cooldown.
 *
 * What counts as a failure is the caller's decision: the router records only retryable upstream
 * failures (5xx, timeouts, rate limits, connection errors). A 400 from the upstream says the
 * request was bad, not that the target is sick, so it must not open the circuit; such outcomes
 * call `release()`, which frees a half-open probe slot without a verdict.
 *
 * Time comes from `clock.monotonic()`, so tests drive cooldowns with a fake clock. The state is
 * evaluated lazily (no timers): an open breaker turns half-open when someone asks.
 */
export type BreakerState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a closed circuit. Default 5. */
  failureThreshold?: number;
  /** Time an open circuit waits before letting probes through. Default 30 000 ms. */
  cooldownMs?: number;
  /** Concurrent probes allowed while half-open. Default 1. */
  halfOpenMaxRequests?: number;
  clock?: Clock;
  /** Called on every transition, e.g. to set a state gauge. Must not throw. */
  onStateChange?: (to: BreakerState, from: BreakerState) => void;
}

export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Milliseconds until an open circuit lets a probe through; 0 unless open. */
  readonly remainingCooldownMs: number;
  /** Whether a request may go to the target now. In half-open, a true takes a probe slot. */
  tryAcquire(): boolean;
  recordSuccess(): void;
  recordFailure(): void;
  /** Ends an acquired request without a verdict (non-retryable error, caller abort). */
  release(): void;
  /** Adds a transition listener; returns a function that removes it. */
  onStateChange(listener: (to: BreakerState, from: BreakerState) => void): () => void;
}

export const defaultBreakerOptions = { failureThreshold: 5, cooldownMs: 30_000, halfOpenMaxRequests: 1 } as const;

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return result;
}

export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  const failureThreshold = positiveInteger(
    options.failureThreshold,
    defaultBreakerOptions.failureThreshold,
    "failureThreshold",
  );
  const halfOpenMaxRequests = positiveInteger(
    options.halfOpenMaxRequests,
    defaultBreakerOptions.halfOpenMaxRequests,
    "halfOpenMaxRequests",
  );
  const cooldownMs = options.cooldownMs ?? defaultBreakerOptions.cooldownMs;
  if (!Number.isFinite(cooldownMs) || cooldownMs < 0) throw new RangeError(`cooldownMs must be ≥ 0, got ${cooldownMs}`);
  const clock = options.clock ?? systemClock;
  const listeners: ((to: BreakerState, from: BreakerState) => void)[] = [];
  if (options.onStateChange) listeners.push(options.onStateChange);

  let state: BreakerState = "closed";
  let consecutiveFailures = 0;
  let openedAt = 0;
  let probesInFlight = 0;

  function transition(to: BreakerState): void {
    const from = state;
    state = to;
    probesInFlight = 0;
    if (to === "open") openedAt = clock.monotonic();
    if (to === "closed") consecutiveFailures = 0;
    for (const listener of listeners) listener(to, from);
  }

  /** Turns an open circuit half-open once its cooldown has passed. */
  function refresh(): void {
    if (state === "open" && clock.monotonic() - openedAt >= cooldownMs) transition("half-open");
  }

  return {
    get state() {
      refresh();
      return state;
    },
    get remainingCooldownMs() {
      refresh();
      return state === "open" ? Math.max(0, openedAt + cooldownMs - clock.monotonic()) : 0;
    },
    tryAcquire() {
      if (state === "closed") return true;
      refresh();
      if (state === "open") return false;
      if (probesInFlight >= halfOpenMaxRequests) return false;
      probesInFlight++;
      return true;
    },
    recordSuccess() {
      if (state === "half-open") transition("closed");
      else if (state === "closed") consecutiveFailures = 0;
      // open: a late success of a request that started before the circuit opened proves little.
    },
    recordFailure() {
      if (state === "half-open") transition("open");
      else if (state === "closed" && ++consecutiveFailures >= failureThreshold) transition("open");
      // open: late failures must not extend the cooldown.
    },
    release() {
      if (state === "half-open" && probesInFlight > 0) probesInFlight--;
    },
    onStateChange(listener) {
      listeners.push(listener);
      return () => {
        const index = listeners.indexOf(listener);
        if (index >= 0) listeners.splice(index, 1);
      };
    },
  };
}
