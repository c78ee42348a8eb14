import { ModelportError } from "../../core/errors.js";
import type {
  AdmissionDecision,
  AdmissionRequest,
  AdmissionTicket,
  LimiterWindowOptions,
  RateLimitHeaders,
  RefusalReason,
} from "./limiter.js";

/**
 * What both adapters share: option and input validation, and turning per-scope observations
 * (computed in process memory or inside a Redis script) into one decision, so the two adapters
 * cannot drift apart on headers, reasons or retry times.
 */

export interface ResolvedWindow {
  windowMs: number;
  slotMs: number;
  /** windowMs / slotMs. A charge in slot s counts while the current slot is within s..s+slots. */
  slots: number;
  concurrencyRetryAfterMs: number;
}

/** Upper bound on slots: the Redis script unpacks 2 × (slots + 1) fields at once. */
const maxSlots = 1_000;

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ModelportError("MP_CONFIG_INVALID", `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export function resolveWindow(options: LimiterWindowOptions): ResolvedWindow {
  const windowMs = positiveInteger(options.windowMs ?? 60_000, "windowMs");
  const slotMs = positiveInteger(options.slotMs ?? Math.min(1_000, windowMs), "slotMs");
  if (windowMs % slotMs !== 0) {
    throw new ModelportError("MP_CONFIG_INVALID", `slotMs (${slotMs}) must divide windowMs (${windowMs})`);
  }
  const slots = windowMs / slotMs;
  if (slots > maxSlots) {
    throw new ModelportError("MP_CONFIG_INVALID", `windowMs / slotMs must be at most ${maxSlots}, got ${slots}`);
  }
  const concurrencyRetryAfterMs = positiveInteger(options.concurrencyRetryAfterMs ?? 1_000, "concurrencyRetryAfterMs");
  return { windowMs, slotMs, slots, concurrencyRetryAfterMs };
}

/** Rejects what would corrupt accounting: duplicate scopes, non-integer limits, bad estimates. */
export function validateAdmission(request: AdmissionRequest): void {
  const seen = new Set<string>();
  for (const scope of request.scopes) {
    if (typeof scope.key !== "string" || scope.key === "") {
      throw new ModelportError("MP_INTERNAL", "a rate-limit scope needs a non-empty key");
    }
    if (seen.has(scope.key)) {
      throw new ModelportError("MP_INTERNAL", `rate-limit scope "${scope.key}" appears twice in one request`);
    }
    seen.add(scope.key);
    const { requestsPerMinute, tokensPerMinute, concurrency } = scope.limits;
    if (requestsPerMinute !== undefined) positiveInteger(requestsPerMinute, `${scope.key} requestsPerMinute`);
    if (tokensPerMinute !== undefined) positiveInteger(tokensPerMinute, `${scope.key} tokensPerMinute`);
    if (concurrency !== undefined) positiveInteger(concurrency, `${scope.key} concurrency`);
  }
  validateTokenCount(request.estimatedTokens, "estimatedTokens");
}

export function validateTokenCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ModelportError("MP_INTERNAL", `${name} must be a non-negative integer, got ${value}`);
  }
}

/** One dimension (requests or tokens) of one scope, as seen at the decision. */
export interface DimensionObservation {
  limit: number;
  /** In the window, after this request's charge when admitted. */
  used: number;
  resetMs: number;
  /** Undefined when this dimension does not block; otherwise ms until it would admit. */
  waitMs?: number;
  /** The request alone exceeds the limit: no wait helps. */
  impossible?: boolean;
}

export interface ScopeObservation {
  key: string;
  requests?: DimensionObservation;
  tokens?: DimensionObservation;
  /** inUse counts this request when admitted; blocked when the cap refused it. */
  concurrency?: { limit: number; inUse: number; blocked: boolean };
}

function pickTightest(
  observations: readonly ScopeObservation[],
  dimension: "requests" | "tokens",
): DimensionObservation | undefined {
  let tightest: DimensionObservation | undefined;
  for (const observation of observations) {
    const candidate = observation[dimension];
    if (!candidate) continue;
    if (!tightest || candidate.limit - candidate.used < tightest.limit - tightest.used) tightest = candidate;
  }
  return tightest;
}

export function headersFor(observations: readonly ScopeObservation[]): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  const requests = pickTightest(observations, "requests");
  if (requests) {
    headers.limitRequests = requests.limit;
    headers.remainingRequests = Math.max(0, requests.limit - requests.used);
    headers.resetRequestsMs = Math.max(0, requests.resetMs);
  }
  const tokens = pickTightest(observations, "tokens");
  if (tokens) {
    headers.limitTokens = tokens.limit;
    headers.remainingTokens = Math.max(0, tokens.limit - tokens.used);
    headers.resetTokensMs = Math.max(0, tokens.resetMs);
  }
  return headers;
}

/**
 * Builds the refusal: retryAfterMs is the longest wait over every blocking constraint (waiting
 * less would still be refused by one of them), and reason/scope name that constraint.
 */
export function refusal(observations: readonly ScopeObservation[], window: ResolvedWindow): AdmissionDecision {
  let reason: RefusalReason | undefined;
  let scope = "";
  let retryAfterMs = -1;
  let exceedsLimit = false;
  const consider = (candidateReason: RefusalReason, key: string, waitMs: number) => {
    if (waitMs > retryAfterMs) {
      reason = candidateReason;
      scope = key;
      retryAfterMs = waitMs;
    }
  };
  for (const observation of observations) {
    for (const dimension of ["requests", "tokens"] as const) {
      const state = observation[dimension];
      if (!state || state.waitMs === undefined) continue;
      if (state.impossible && !exceedsLimit) {
        exceedsLimit = true;
        retryAfterMs = -1; // an impossible constraint outranks every finite wait
      }
      if (exceedsLimit && !state.impossible) continue;
      consider(dimension, observation.key, state.impossible ? window.windowMs : state.waitMs);
    }
    if (!exceedsLimit && observation.concurrency?.blocked) {
      consider("concurrency", observation.key, window.concurrencyRetryAfterMs);
    }
  }
  if (reason === undefined) {
    throw new ModelportError("MP_INTERNAL", "the limiter refused a request without a blocking constraint");
  }
  return {
    allowed: false,
    reason,
    scope,
    retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
    exceedsLimit,
    headers: headersFor(observations),
  };
}

export function admitted(ticket: AdmissionTicket, observations: readonly ScopeObservation[]): AdmissionDecision {
  return { allowed: true, ticket, headers: headersFor(observations) };
}

const finishedMark = Symbol("modelport.limiter.finished");

/**
 * Marks a ticket settled/released; false if it already was. A flag on the ticket itself (not a
 * WeakSet) because it is on the hot path and WeakSet entries cost the garbage collector dearly.
 */
export function markFinished(ticket: AdmissionTicket): boolean {
  const marked = ticket as AdmissionTicket & { [finishedMark]?: true };
  if (marked[finishedMark]) return false;
  marked[finishedMark] = true;
  return true;
}

/** Undoes markFinished when the settle could not be applied (so a retry may still apply it). */
export function unmarkFinished(ticket: AdmissionTicket): void {
  delete (ticket as AdmissionTicket & { [finishedMark]?: true })[finishedMark];
}

/** Tokens a request needs free to be admitted: its estimate, and at least one. */
export function tokenHeadroomNeeded(estimatedTokens: number): number {
  return Math.max(1, estimatedTokens);
}
