/**
 * The rate limiter port: requests/minute, tokens/minute and a concurrency cap, checked for several
 * scopes (a key, its tenant, ...) at once. Two adapters pass one contract suite
 * (`core/testing/limiter-contract.ts`): `createMemoryLimiter` for one process and
 * `createRedisLimiter` (atomic Lua scripts) for many.
 *
 * ## Algorithm: a sliding window of slots, exact as an upper bound
 * The window (`windowMs`, 60 s by default) is cut into `slots` slots of `slotMs` (1 s by default).
 * Each scope keeps, per dimension (requests, tokens), a count per slot and a running total of the
 * counts still in the window. A charge made in slot `s` counts until slot `s + slots + 1` starts,
 * i.e. for between `windowMs` and `windowMs + slotMs`.
 *
 * Guarantee (what the contract tests check): in ANY interval of length `windowMs`, the admitted
 * requests of a scope are at most `requestsPerMinute`, and the tokens reserved-then-settled are
 * at most `tokensPerMinute` (plus any overshoot a settle reports after the fact). There is no
 * extra burst on top of the limit: a token bucket with capacity L admits up to 2L in a minute,
 * this admits L. The price of the bound is the slot granularity: capacity comes back at slot
 * boundaries, up to `slotMs` later than an exact log would give it back, so traffic that
 * saturates the limit sustains L per (windowMs + slotMs) — 1/61 below nominal with defaults.
 * A fresh scope may spend its whole limit at once (a burst of L is allowed, never more).
 *
 * Tokens: admission reserves `estimatedTokens` in the current slot; `settle` replaces the
 * reservation with the actual count (refund or extra charge, never below zero) in the slot where
 * it was made, or, if that slot has already left the window, charges a positive difference to
 * the current slot and drops a refund. A request needs at least one token of headroom to be
 * admitted (so an exhausted token limit refuses even zero-token estimates), and a request whose
 * estimate alone exceeds the limit is refused with `exceedsLimit: true` (retrying cannot help).
 *
 * Concurrency: a slot is taken at admission and freed by `settle` or `release` (each at most
 * once per ticket). The Redis adapter stores slots as a sorted set of lease expiry times, so a
 * crashed process's slots come back after `leaseMs`.
 *
 * Admission is all-or-nothing across the scopes of one request: if any scope refuses, no scope
 * is charged. `release` (the request failed before producing tokens) frees the concurrency slot
 * and refunds the token reservation, but the request still counts against requests/minute:
 * failing requests are still requests, or a client could hammer with failures for free.
 */

export interface ScopeLimits {
  /** Admissions per window (a minute by default). */
  requestsPerMinute?: number;
  /** Tokens per window: reserved at admission, settled to the actual count. */
  tokensPerMinute?: number;
  /** Requests admitted and not yet settled or released. */
  concurrency?: number;
}

export interface AdmissionScope {
  /** A stable identity, e.g. `key:<id>` or `tenant:<id>`. Unique within one request. */
  key: string;
  limits: ScopeLimits;
}

export interface AdmissionRequest {
  /** Checked and charged atomically; an empty list admits without any accounting. */
  scopes: readonly AdmissionScope[];
  /** Tokens to reserve until settle (prompt estimate + the completion allowance). */
  estimatedTokens: number;
}

/** The most restrictive scope per dimension; a field is absent when no scope limits it. */
export interface RateLimitHeaders {
  limitRequests?: number;
  remainingRequests?: number;
  /** Milliseconds until the request count is back to its full limit. */
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

export interface TicketScope {
  readonly key: string;
  /** The slot the token reservation sits in, or null when this scope has no token limit. */
  readonly tokenSlot: number | null;
  /** Whether this scope holds a concurrency slot for the ticket. */
  readonly concurrency: boolean;
}

/** Proof of admission, handed back to `settle` or `release`. Treat it as opaque. */
export interface AdmissionTicket {
  readonly id: string;
  readonly reservedTokens: number;
  readonly scopes: readonly TicketScope[];
  /** True when a fail-open limiter admitted without its store: settle/release do nothing. */
  readonly degraded: boolean;
}

export type RefusalReason = "requests" | "tokens" | "concurrency";

export type AdmissionDecision =
  | { allowed: true; ticket: AdmissionTicket; headers: RateLimitHeaders }
  | {
      allowed: false;
      reason: RefusalReason;
      /** The scope key that refused (the one that needs the longest wait). */
      scope: string;
      /** Retrying after this long is admitted unless other traffic takes the room first. */
      retryAfterMs: number;
      /** The request can never fit (its token estimate exceeds the limit): do not retry. */
      exceedsLimit: boolean;
      headers: RateLimitHeaders;
    };

export interface RateLimiter {
  admit(request: AdmissionRequest): Promise<AdmissionDecision>;
  /** The request finished with `actual.tokens` tokens (input + output). Idempotent per ticket. */
  settle(ticket: AdmissionTicket, actual: { tokens: number }): Promise<void>;
  /** The request failed before using tokens: frees its slot and its reservation. Idempotent. */
  release(ticket: AdmissionTicket): Promise<void>;
  close(): Promise<void>;
}

export interface LimiterWindowOptions {
  /** The rate window; `...PerMinute` limits are per this window. Default 60 000 (tests shorten it). */
  windowMs?: number;
  /** Slot size; must divide `windowMs`. Default 1 000. Smaller is finer and costs more per call. */
  slotMs?: number;
  /** `retryAfterMs` for a concurrency refusal (no one knows when a slot frees). Default 1 000. */
  concurrencyRetryAfterMs?: number;
}
