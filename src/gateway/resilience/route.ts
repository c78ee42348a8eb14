import { ModelportError } from "../../core/errors.js";
import type { EndpointKind, ModelRuntime, RuntimeTimeouts } from "../../core/runtime.js";
import type { RetryPolicy } from "./backoff.js";
import { totalWeight } from "./target-picker.js";

/**
 * The routing description of one endpoint, built by the server from config. Plain data: the
 * router keeps no per-route state except circuit breakers, which are keyed by target id.
 */
export interface RouteTarget {
  /** Stable id, e.g. "mock/gpt-4o-mini"; keys the circuit breaker and sticky hashing. */
  id: string;
  runtime: ModelRuntime;
  /** Runtime-side model name the call should send. */
  model: string;
  /** Share of primary traffic (≥ 0). Ignored for fallbacks and shadows. */
  weight: number;
}

export interface ShadowRoute {
  target: RouteTarget;
  /** Fraction of requests mirrored to the target, in [0, 1]. */
  sampleRate: number;
}

export interface RouteRetry extends RetryPolicy {
  /** Tries per target, the first included (1 = no retry). */
  maxAttempts: number;
}

export interface RouteBreaker {
  failureThreshold: number;
  cooldownMs: number;
  halfOpenMaxRequests: number;
}

export interface EndpointRoute {
  /** The endpoint name clients send; used in errors and hook events. */
  name: string;
  kind: EndpointKind;
  /** Weighted primaries (canary split). */
  targets: RouteTarget[];
  /** Tried in order after the primaries. */
  fallbacks: RouteTarget[];
  shadows: ShadowRoute[];
  retry: RouteRetry;
  timeouts: RuntimeTimeouts;
  breaker: RouteBreaker;
}

function fail(route: EndpointRoute, message: string): never {
  throw new ModelportError("MP_CONFIG_INVALID", `endpoint "${route.name}": ${message}`);
}

function nonNegative(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/**
 * Checks a route once, when config is loaded, so the hot path can trust it. Throws
 * MP_CONFIG_INVALID naming the endpoint and the field.
 */
export function validateRoute(route: EndpointRoute): void {
  try {
    totalWeight(route.targets);
  } catch (error) {
    fail(route, `targets: ${(error as Error).message}`);
  }
  // Two weighted entries with one id would hash identically, so their combined share would be
  // wrong; a fallback repeating a target is merely redundant and allowed.
  const ids = new Set<string>();
  for (const target of route.targets) {
    if (ids.has(target.id)) fail(route, `target "${target.id}" is listed twice`);
    ids.add(target.id);
  }
  for (const target of [...route.targets, ...route.fallbacks, ...route.shadows.map((shadow) => shadow.target)]) {
    if (!target.id) fail(route, "every target needs an id");
  }
  for (const shadow of route.shadows) {
    if (!(shadow.sampleRate >= 0 && shadow.sampleRate <= 1)) {
      fail(route, `shadow "${shadow.target.id}": sampleRate must be in [0, 1], got ${shadow.sampleRate}`);
    }
  }
  const { retry, timeouts, breaker } = route;
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) fail(route, "retry.maxAttempts must be ≥ 1");
  for (const [name, value] of [
    ["retry.baseDelayMs", retry.baseDelayMs],
    ["retry.maxDelayMs", retry.maxDelayMs],
    ["retry.maxRetryAfterMs", retry.maxRetryAfterMs],
    ["breaker.cooldownMs", breaker.cooldownMs],
  ] as const) {
    if (!nonNegative(value)) fail(route, `${name} must be a number ≥ 0, got ${value}`);
  }
  for (const [name, value] of [
    ["timeouts.connectMs", timeouts.connectMs],
    ["timeouts.firstByteMs", timeouts.firstByteMs],
    ["timeouts.totalMs", timeouts.totalMs],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) fail(route, `${name} must be a number > 0, got ${value}`);
  }
  if (!Number.isInteger(breaker.failureThreshold) || breaker.failureThreshold < 1) {
    fail(route, "breaker.failureThreshold must be an integer ≥ 1");
  }
  if (!Number.isInteger(breaker.halfOpenMaxRequests) || breaker.halfOpenMaxRequests < 1) {
    fail(route, "breaker.halfOpenMaxRequests must be an integer ≥ 1");
  }
}
