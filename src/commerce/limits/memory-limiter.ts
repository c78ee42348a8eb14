import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { randomId } from "../../core/ids.js";
import {
  admitted,
  type DimensionObservation,
  refusal,
  resolveWindow,
  type ScopeObservation,
  tokenHeadroomNeeded,
  validateAdmission,
  validateTokenCount,
} from "./decision.js";
import type {
  AdmissionDecision,
  AdmissionRequest,
  AdmissionTicket,
  LimiterWindowOptions,
  RateLimiter,
  TicketScope,
} from "./limiter.js";
import { SlidingWindowCounter } from "./sliding-window.js";

/**
 * The rate limiter for a single process: exact, O(1) per decision, no timers. Node runs one
 * decision at a time, so check-then-charge across scopes is atomic without locks.
 *
 * Memory stays bounded: scopes live in a Map kept in least-recently-used order, and each
 * decision looks at the two oldest entries and drops them if idle (nothing counted in the window
 * and no request in flight). So the map holds the scopes used within the last window plus the
 * ones with requests in flight, whatever the number of keys ever seen.
 */
export interface MemoryLimiterOptions extends LimiterWindowOptions {
  /** Injected so tests move time without sleeping. Default: the system clock. */
  clock?: Clock;
}

interface ScopeState {
  requests: SlidingWindowCounter | undefined;
  tokens: SlidingWindowCounter | undefined;
  inFlight: number;
  lastUsedMs: number;
}

export interface MemoryLimiter extends RateLimiter {
  /** Scopes currently held in memory (for tests and metrics). */
  scopeCount(): number;
}

const evictionsPerDecision = 2;

export function createMemoryLimiter(options: MemoryLimiterOptions = {}): MemoryLimiter {
  const window = resolveWindow(options);
  const clock = options.clock ?? systemClock;
  const scopes = new Map<string, ScopeState>();
  const finished = new WeakSet<AdmissionTicket>();
  const idleAfterMs = window.windowMs + window.slotMs;

  function touch(key: string, now: number): ScopeState {
    let state = scopes.get(key);
    if (state)
      scopes.delete(key); // re-inserted below: Map order is then least recently used first
    else state = { requests: undefined, tokens: undefined, inFlight: 0, lastUsedMs: now };
    state.lastUsedMs = now;
    scopes.set(key, state);
    return state;
  }

  function evictIdle(now: number): void {
    for (let checked = 0; checked < evictionsPerDecision; checked++) {
      const oldest = scopes.entries().next();
      if (oldest.done) return;
      const [key, state] = oldest.value;
      if (now - state.lastUsedMs < idleAfterMs) return; // everything after it is newer still
      scopes.delete(key);
      if (state.inFlight > 0) scopes.set(key, state); // still holds slots: keep, move to the back
    }
  }

  function counter(existing: SlidingWindowCounter | undefined, slot: number): SlidingWindowCounter {
    const result = existing ?? new SlidingWindowCounter(window.slots, slot);
    result.advance(slot);
    return result;
  }

  function observe(
    dimensionCounter: SlidingWindowCounter,
    limit: number,
    need: number,
    now: number,
  ): DimensionObservation {
    const resetSlot = dimensionCounter.resetSlot();
    const observation: DimensionObservation = {
      limit,
      used: dimensionCounter.total,
      resetMs: resetSlot === null ? 0 : resetSlot * window.slotMs - now,
    };
    if (dimensionCounter.total + need > limit) {
      if (need > limit) {
        observation.impossible = true;
        observation.waitMs = window.windowMs;
      } else {
        observation.waitMs = dimensionCounter.slotWhenFits(need, limit) * window.slotMs - now;
      }
    }
    return observation;
  }

  async function admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    validateAdmission(request);
    const now = clock.now();
    const slot = Math.floor(now / window.slotMs);
    const tokenNeed = tokenHeadroomNeeded(request.estimatedTokens);
    const states: ScopeState[] = [];
    const observations: ScopeObservation[] = [];
    let allowed = true;

    for (const scope of request.scopes) {
      const state = touch(scope.key, now);
      states.push(state);
      const observation: ScopeObservation = { key: scope.key };
      const { requestsPerMinute, tokensPerMinute, concurrency } = scope.limits;
      if (requestsPerMinute !== undefined) {
        state.requests = counter(state.requests, slot);
        observation.requests = observe(state.requests, requestsPerMinute, 1, now);
        if (observation.requests.waitMs !== undefined) allowed = false;
      }
      if (tokensPerMinute !== undefined) {
        state.tokens = counter(state.tokens, slot);
        observation.tokens = observe(state.tokens, tokensPerMinute, tokenNeed, now);
        if (observation.tokens.waitMs !== undefined) allowed = false;
      }
      if (concurrency !== undefined) {
        const blocked = state.inFlight >= concurrency;
        observation.concurrency = { limit: concurrency, inUse: state.inFlight, blocked };
        if (blocked) allowed = false;
      }
      observations.push(observation);
    }
    evictIdle(now);
    if (!allowed) return refusal(observations, window);

    const ticketScopes: TicketScope[] = [];
    request.scopes.forEach((scope, index) => {
      const state = states[index] as ScopeState;
      const observation = observations[index] as ScopeObservation;
      let tokenSlot: number | null = null;
      if (state.requests && observation.requests) {
        state.requests.add(state.requests.cursor, 1);
        observation.requests.used = state.requests.total;
        observation.requests.resetMs = (state.requests.cursor + window.slots + 1) * window.slotMs - now;
      }
      if (state.tokens && observation.tokens) {
        tokenSlot = state.tokens.cursor;
        state.tokens.add(tokenSlot, request.estimatedTokens);
        observation.tokens.used = state.tokens.total;
        const resetSlot = state.tokens.resetSlot();
        observation.tokens.resetMs = resetSlot === null ? 0 : resetSlot * window.slotMs - now;
      }
      if (observation.concurrency) {
        state.inFlight += 1;
        observation.concurrency.inUse = state.inFlight;
      }
      ticketScopes.push({ key: scope.key, tokenSlot, concurrency: observation.concurrency !== undefined });
    });
    const ticket: AdmissionTicket = {
      id: randomId("adm"),
      reservedTokens: request.estimatedTokens,
      scopes: ticketScopes,
      degraded: false,
    };
    return admitted(ticket, observations);
  }

  function finish(ticket: AdmissionTicket, actualTokens: number): void {
    validateTokenCount(actualTokens, "actual tokens");
    if (ticket.degraded || finished.has(ticket)) return;
    finished.add(ticket);
    const now = clock.now();
    const slot = Math.floor(now / window.slotMs);
    const delta = actualTokens - ticket.reservedTokens;
    for (const scope of ticket.scopes) {
      const state = touch(scope.key, now);
      if (scope.tokenSlot !== null && delta !== 0) {
        state.tokens = counter(state.tokens, slot);
        if (state.tokens.isLive(scope.tokenSlot)) state.tokens.add(scope.tokenSlot, delta);
        else if (delta > 0) state.tokens.add(state.tokens.cursor, delta);
      }
      if (scope.concurrency) state.inFlight = Math.max(0, state.inFlight - 1);
    }
  }

  return {
    admit,
    async settle(ticket, actual) {
      finish(ticket, actual.tokens);
    },
    async release(ticket) {
      finish(ticket, 0);
    },
    async close() {
      scopes.clear();
    },
    scopeCount: () => scopes.size,
  };
}
