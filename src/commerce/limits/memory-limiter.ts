import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { randomId } from "../../core/ids.js";
import {
  admitted,
  type DimensionObservation,
  markFinished,
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
 * Memory stays bounded without scanning: scopes live in two generations of maps. Every
 * `windowMs + slotMs` the current map becomes the previous one and the old previous map is
 * dropped whole; a scope used again is moved back into the current map. A scope dropped that way
 * has been idle for at least a full window, so nothing it counted is still in the window. Scopes
 * with requests in flight are also kept in a `pinned` map, so a long request keeps its slot.
 * The maps hold the scopes used in the last two windows plus those with requests in flight.
 */
export interface MemoryLimiterOptions extends LimiterWindowOptions {
  /** Injected so tests move time without sleeping. Default: the system clock. */
  clock?: Clock;
}

interface ScopeState {
  requests: SlidingWindowCounter | undefined;
  tokens: SlidingWindowCounter | undefined;
  inFlight: number;
}

export interface MemoryLimiter extends RateLimiter {
  /** Scopes currently held in memory (for tests and metrics). */
  scopeCount(): number;
}

export function createMemoryLimiter(options: MemoryLimiterOptions = {}): MemoryLimiter {
  const window = resolveWindow(options);
  const clock = options.clock ?? systemClock;
  const idleAfterMs = window.windowMs + window.slotMs;
  let current = new Map<string, ScopeState>();
  let previous = new Map<string, ScopeState>();
  const pinned = new Map<string, ScopeState>();
  let rotatedAt = clock.now();
  // Ticket ids only need to be unique within this process: a counter is cheaper than randomness.
  const ticketPrefix = randomId("adm", 8);
  let ticketSequence = 0;

  function rotate(now: number): void {
    if (now - rotatedAt < idleAfterMs) return;
    previous = now - rotatedAt >= 2 * idleAfterMs ? new Map() : current;
    current = new Map();
    rotatedAt = now;
  }

  function touch(key: string): ScopeState {
    let state = current.get(key);
    if (!state) {
      state = previous.get(key) ?? pinned.get(key);
      if (state) previous.delete(key);
      else state = { requests: undefined, tokens: undefined, inFlight: 0 };
      current.set(key, state);
    }
    return state;
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
    rotate(now);
    const slot = Math.floor(now / window.slotMs);
    const tokenNeed = tokenHeadroomNeeded(request.estimatedTokens);
    const states: ScopeState[] = [];
    const observations: ScopeObservation[] = [];
    let allowed = true;

    for (const scope of request.scopes) {
      const state = touch(scope.key);
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
        if (state.inFlight === 1) pinned.set(scope.key, state);
        observation.concurrency.inUse = state.inFlight;
      }
      ticketScopes.push({ key: scope.key, tokenSlot, concurrency: observation.concurrency !== undefined });
    });
    const ticket: AdmissionTicket = {
      id: `${ticketPrefix}_${++ticketSequence}`,
      reservedTokens: request.estimatedTokens,
      scopes: ticketScopes,
      degraded: false,
    };
    return admitted(ticket, observations);
  }

  function finish(ticket: AdmissionTicket, actualTokens: number): void {
    validateTokenCount(actualTokens, "actual tokens");
    if (ticket.degraded || !markFinished(ticket)) return;
    const now = clock.now();
    rotate(now);
    const slot = Math.floor(now / window.slotMs);
    const delta = actualTokens - ticket.reservedTokens;
    for (const scope of ticket.scopes) {
      const state = touch(scope.key);
      if (scope.tokenSlot !== null && delta !== 0) {
        state.tokens = counter(state.tokens, slot);
        if (state.tokens.isLive(scope.tokenSlot)) state.tokens.add(scope.tokenSlot, delta);
        else if (delta > 0) state.tokens.add(state.tokens.cursor, delta);
      }
      if (scope.concurrency && state.inFlight > 0) {
        state.inFlight -= 1;
        if (state.inFlight === 0) pinned.delete(scope.key);
      }
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
      current.clear();
      previous.clear();
      pinned.clear();
    },
    scopeCount: () => {
      let count = current.size + previous.size;
      for (const key of pinned.keys()) if (!current.has(key) && !previous.has(key)) count += 1;
      return count;
    },
  };
}
