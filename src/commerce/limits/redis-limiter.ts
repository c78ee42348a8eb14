import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import {
  admitted,
  type DimensionObservation,
  markFinished,
  refusal,
  resolveWindow,
  type ScopeObservation,
  unmarkFinished,
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
import { admitScript, settleScript } from "./redis-scripts.js";

/**
 * The rate limiter shared by every process on one Redis: one EVALSHA per admission checks and
 * charges all scopes atomically, one per settle/release. Exact across processes (the script
 * runs alone on the server) and across skewed clocks (it reads Redis `TIME`).
 *
 * When Redis cannot answer (down, timeout, read-only replica, ...), `admit` rejects with
 * MP_LIMITER_UNAVAILABLE (503, retryable): fail closed, so an outage never lifts paid limits.
 * `failOpen: true` admits instead, with a `degraded` ticket that settle/release ignore, and
 * reports the error to `onError` — for deployments that prefer availability to enforcement.
 * settle/release reject with MP_LIMITER_UNAVAILABLE too; callers log that and move on, because
 * the damage is bounded: the reservation leaves the window within a minute and the concurrency
 * lease expires after `leaseMs`.
 *
 * Redis Cluster: a request's keys must share a hash slot, so the default prefix carries a hash
 * tag (`{modelport-limits}`); a custom prefix for a cluster must contain one too.
 */
export interface RedisLimiterOptions extends LimiterWindowOptions {
  /** `redis://...`; the limiter creates and owns the client (closed by `close()`). */
  url?: string;
  /** A client the caller owns (not closed by `close()`); set its `commandTimeout`. */
  client?: Redis;
  /** Key prefix. Default `{modelport-limits}`. Distinct prefixes are distinct limiters. */
  prefix?: string;
  /** A concurrency slot not settled/released within this long is presumed lost. Default 600 000. */
  leaseMs?: number;
  /** For an owned client: how long a call may wait for Redis. Default 1 000 ms. */
  commandTimeoutMs?: number;
  /** Admit when Redis is unavailable (default false: refuse with MP_LIMITER_UNAVAILABLE). */
  failOpen?: boolean;
  /** Told about every Redis failure (also those turned into admissions by failOpen). */
  onError?: (error: ModelportError) => void;
}

const fieldsPerScope = 11;

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function unavailable(cause: unknown): ModelportError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ModelportError("MP_LIMITER_UNAVAILABLE", `the rate limiter's Redis is unavailable: ${detail}`, {
    cause,
  });
}

function dimension(limit: number, used: number, resetMs: number, wait: number): DimensionObservation | undefined {
  if (limit < 0) return undefined;
  const observation: DimensionObservation = { limit, used, resetMs };
  if (wait === -2) {
    observation.impossible = true;
    observation.waitMs = 0; // refusal() answers an impossible request with a full window
  } else if (wait >= 0) {
    observation.waitMs = wait;
  }
  return observation;
}

export function createRedisLimiter(options: RedisLimiterOptions): RateLimiter {
  const window = resolveWindow(options);
  const prefix = options.prefix ?? "{modelport-limits}";
  const leaseMs = options.leaseMs ?? 600_000;
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1) {
    throw new ModelportError("MP_CONFIG_INVALID", `leaseMs must be a positive integer, got ${leaseMs}`);
  }
  if (!options.client && !options.url) {
    throw new ModelportError("MP_CONFIG_INVALID", "createRedisLimiter needs a url or a client");
  }
  const ownsClient = !options.client;
  const client =
    options.client ??
    new Redis(options.url as string, {
      // Fail fast instead of queueing forever: a decision that waits on a dead Redis holds the
      // request; one reconnect attempt, then the caller gets MP_LIMITER_UNAVAILABLE.
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 1_000,
      connectTimeout: options.commandTimeoutMs ?? 1_000,
    });
  if (ownsClient) {
    // Without a listener ioredis prints every connection error; onError already sees failures.
    client.on("error", () => undefined);
  }
  const scripts = {
    admit: { source: admitScript, sha: sha1(admitScript) },
    settle: { source: settleScript, sha: sha1(settleScript) },
  };

  /** EVALSHA, and on NOSCRIPT (a restarted or flushed Redis) load the script and run it again. */
  async function run(script: { source: string; sha: string }, keys: string[], args: (string | number)[]) {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
      await client.script("LOAD", script.source);
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    }
  }

  function keysFor(scopeKey: string): [string, string] {
    return [`${prefix}:w:${scopeKey}`, `${prefix}:c:${scopeKey}`];
  }

  async function admit(request: AdmissionRequest): Promise<AdmissionDecision> {
    validateAdmission(request);
    const ticketId = randomId("adm");
    const keys: string[] = [];
    const args: (string | number)[] = [window.slotMs, window.slots, request.estimatedTokens, ticketId, leaseMs];
    for (const scope of request.scopes) {
      keys.push(...keysFor(scope.key));
      const { requestsPerMinute, tokensPerMinute, concurrency } = scope.limits;
      args.push(requestsPerMinute ?? -1, tokensPerMinute ?? -1, concurrency ?? -1);
    }
    let reply: number[];
    try {
      reply = (await run(scripts.admit, keys, args)) as number[];
    } catch (error) {
      const failure = unavailable(error);
      options.onError?.(failure);
      if (!options.failOpen) throw failure;
      const ticket: AdmissionTicket = {
        id: ticketId,
        reservedTokens: request.estimatedTokens,
        scopes: [],
        degraded: true,
      };
      return { allowed: true, ticket, headers: {} };
    }

    const allowed = reply[0] === 1;
    const observations: ScopeObservation[] = [];
    const ticketScopes: TicketScope[] = [];
    request.scopes.forEach((scope, index) => {
      const at = 1 + index * fieldsPerScope;
      const field = (offset: number) => Number(reply[at + offset]);
      const observation: ScopeObservation = { key: scope.key };
      const requests = dimension(field(1), field(2), field(3), field(4));
      if (requests) observation.requests = requests;
      const tokens = dimension(field(5), field(6), field(7), field(8));
      if (tokens) observation.tokens = tokens;
      const concurrencyLimit = field(9);
      if (concurrencyLimit >= 0) {
        const inUse = field(10);
        observation.concurrency = { limit: concurrencyLimit, inUse, blocked: !allowed && inUse >= concurrencyLimit };
      }
      observations.push(observation);
      ticketScopes.push({
        key: scope.key,
        tokenSlot: tokens ? field(0) : null,
        concurrency: observation.concurrency !== undefined,
      });
    });
    if (!allowed) return refusal(observations, window);
    const ticket: AdmissionTicket = {
      id: ticketId,
      reservedTokens: request.estimatedTokens,
      scopes: ticketScopes,
      degraded: false,
    };
    return admitted(ticket, observations);
  }

  async function finish(ticket: AdmissionTicket, actualTokens: number): Promise<void> {
    validateTokenCount(actualTokens, "actual tokens");
    if (ticket.degraded || !markFinished(ticket)) return;
    const delta = actualTokens - ticket.reservedTokens;
    const keys: string[] = [];
    const args: (string | number)[] = [window.slotMs, window.slots, ticket.id, delta];
    for (const scope of ticket.scopes) {
      const adjustsTokens = scope.tokenSlot !== null && delta !== 0;
      if (!adjustsTokens && !scope.concurrency) continue; // nothing to change: skip the round trip
      keys.push(...keysFor(scope.key));
      args.push(adjustsTokens ? (scope.tokenSlot as number) : -1, scope.concurrency ? 1 : 0);
    }
    if (keys.length === 0) return;
    try {
      await run(scripts.settle, keys, args);
    } catch (error) {
      unmarkFinished(ticket); // not applied: a later retry may still settle it
      const failure = unavailable(error);
      options.onError?.(failure);
      throw failure;
    }
  }

  return {
    admit,
    settle: (ticket, actual) => finish(ticket, actual.tokens),
    release: (ticket) => finish(ticket, 0),
    async close() {
      if (!ownsClient) return;
      try {
        await client.quit();
      } catch {
        client.disconnect(); // already down: just drop the socket
      }
    },
  };
}
