import type { Kysely } from "kysely";
import type { Clock } from "../../core/clock.js";
import { randomId } from "../../core/ids.js";
import type { Database } from "../../storage/schema.js";
import type { AlertDispatcher } from "../alerts/dispatcher.js";
import type { FeedbackStore } from "../feedback/store.js";
import type { RequestStatsSource } from "../rules/request-stats.js";
import {
  type CanarySlo,
  DEFAULT_CANARY_SLO,
  decideRollback,
  type RollbackDecision,
  type TargetHealth,
} from "./decide.js";

/** Sets a target's traffic weight on the live router (implemented by the server on its route data). */
export type SetTargetWeight = (endpoint: string, targetId: string, weight: number) => void | Promise<void>;

export interface CanaryPair {
  /** Scopes stats to one tenant's traffic; omitted for shared endpoints. */
  tenantId?: string | undefined;
  endpoint: string;
  canary: string;
  stable: string;
}

export interface RollbackEvent {
  id: string;
  tenantId: string | null;
  endpoint: string;
  target: string;
  stableTarget: string;
  reasons: string[];
  metrics: { canary: TargetHealth; stable: TargetHealth };
  at: string;
  resetAt: string | null;
  resetBy: string | null;
}

export interface CanaryCheck extends RollbackDecision {
  endpoint: string;
  canary: string;
  /** The canary was rolled back earlier and not reset: it stays at weight 0, nothing was measured. */
  alreadyRolledBack: boolean;
  event: RollbackEvent | null;
  health: { canary: TargetHealth; stable: TargetHealth } | null;
}

export interface RollbackGuardOptions {
  db: Kysely<Database>;
  clock: Clock;
  alerts: Pick<AlertDispatcher, "fire">;
  requests: Pick<RequestStatsSource, "stats">;
  /** Live accuracy per target; without it only error rate and latency are compared. */
  quality?: Pick<FeedbackStore, "liveQuality">;
  setTargetWeight: SetTargetWeight;
  slo?: Partial<CanarySlo>;
  /** How far back a check looks (default 10 minutes). */
  windowMs?: number;
}

type EventRow = Database["rollback_events"];

function toEvent(row: EventRow): RollbackEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    endpoint: row.endpoint,
    target: row.target,
    stableTarget: row.stable_target,
    reasons: JSON.parse(row.reasons) as string[],
    metrics: JSON.parse(row.metrics) as RollbackEvent["metrics"],
    at: row.at,
    resetAt: row.reset_at,
    resetBy: row.reset_by,
  };
}

/**
 * Watches canaries: compares each with its stable target over a recent window and, on an SLO
 * breach, records the event, sets the canary's weight to 0 and fires `canary-rolled-back`. It
 * does not flap: while an un-reset event exists the canary is held at 0 (re-asserted on every
 * check, so a config reload cannot quietly bring it back) until an operator calls `reset`.
 */
export function createRollbackGuard(options: RollbackGuardOptions) {
  const { db, clock } = options;
  const slo: CanarySlo = { ...DEFAULT_CANARY_SLO, ...options.slo };
  const windowMs = options.windowMs ?? 600_000;
  const checking = new Set<string>();

  async function activeEvent(endpoint: string, target: string): Promise<RollbackEvent | null> {
    const row = await db
      .selectFrom("rollback_events")
      .selectAll()
      .where("endpoint", "=", endpoint)
      .where("target", "=", target)
      .where("reset_at", "is", null)
      .orderBy("at", "desc")
      .executeTakeFirst();
    return row ? toEvent(row) : null;
  }

  async function health(pair: CanaryPair, target: string, from: string, to: string): Promise<TargetHealth> {
    const requests = await options.requests.stats({
      from,
      to,
      tenantId: pair.tenantId,
      endpoint: pair.endpoint,
      target,
    });
    const quality = options.quality
      ? await options.quality.liveQuality({
          tenantId: pair.tenantId,
          endpoint: pair.endpoint,
          target,
          window: { from, to },
        })
      : undefined;
    return { requests, quality };
  }

  async function check(pair: CanaryPair): Promise<CanaryCheck> {
    const base = { endpoint: pair.endpoint, canary: pair.canary };
    const existing = await activeEvent(pair.endpoint, pair.canary);
    if (existing) {
      await options.setTargetWeight(pair.endpoint, pair.canary, 0);
      return {
        ...base,
        rollback: true,
        reasons: existing.reasons,
        undecided: [],
        alreadyRolledBack: true,
        event: existing,
        health: null,
      };
    }
    const now = clock.now();
    const from = new Date(now - windowMs).toISOString();
    const to = new Date(now).toISOString();
    const canary = await health(pair, pair.canary, from, to);
    const stable = await health(pair, pair.stable, from, to);
    const decision = decideRollback(canary, stable, slo);
    if (!decision.rollback)
      return { ...base, ...decision, alreadyRolledBack: false, event: null, health: { canary, stable } };

    // Record first: if setting the weight fails, the next check still finds the event and retries it.
    const row: EventRow = {
      id: randomId("rbk", 16),
      tenant_id: pair.tenantId ?? null,
      endpoint: pair.endpoint,
      target: pair.canary,
      stable_target: pair.stable,
      reasons: JSON.stringify(decision.reasons),
      metrics: JSON.stringify({ canary, stable }),
      at: to,
      reset_at: null,
      reset_by: null,
    };
    await db.insertInto("rollback_events").values(row).execute();
    await options.setTargetWeight(pair.endpoint, pair.canary, 0);
    await options.alerts.fire({
      tenantId: pair.tenantId ?? null,
      kind: "canary-rolled-back",
      dedupKey: `rollback:${pair.endpoint}:${pair.canary}:${row.id}`,
      severity: "critical",
      summary: `canary ${pair.canary} of ${pair.endpoint} rolled back to weight 0: ${decision.reasons.join("; ")}`,
      details: {
        endpoint: pair.endpoint,
        canary: pair.canary,
        stable: pair.stable,
        reasons: decision.reasons,
        eventId: row.id,
        window: { from, to },
      },
    });
    return { ...base, ...decision, alreadyRolledBack: false, event: toEvent(row), health: { canary, stable } };
  }

  return {
    slo,
    /** Checks one canary (concurrent checks of the same canary wait for nothing: the second is a no-op). */
    async check(pair: CanaryPair): Promise<CanaryCheck | null> {
      const key = `${pair.endpoint}\u0000${pair.canary}`;
      if (checking.has(key)) return null;
      checking.add(key);
      try {
        return await check(pair);
      } finally {
        checking.delete(key);
      }
    },

    /** Checks every canary the router currently has; one failing check does not stop the others. */
    async checkAll(
      pairs: readonly CanaryPair[],
    ): Promise<Array<CanaryCheck | { endpoint: string; canary: string; error: string }>> {
      const results: Array<CanaryCheck | { endpoint: string; canary: string; error: string }> = [];
      for (const pair of pairs) {
        try {
          const result = await this.check(pair);
          if (result) results.push(result);
        } catch (error) {
          results.push({ endpoint: pair.endpoint, canary: pair.canary, error: (error as Error).message });
        }
      }
      return results;
    },

    /** True while the canary is held at 0 by an un-reset rollback. */
    async isRolledBack(endpoint: string, target: string): Promise<boolean> {
      return (await activeEvent(endpoint, target)) !== null;
    },

    /** An operator's reset: the guard stops holding the canary at 0 (the operator then restores its weight). */
    async reset(endpoint: string, target: string, by: string): Promise<boolean> {
      const result = await db
        .updateTable("rollback_events")
        .set({ reset_at: new Date(clock.now()).toISOString(), reset_by: by })
        .where("endpoint", "=", endpoint)
        .where("target", "=", target)
        .where("reset_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async events(query: { endpoint?: string; limit?: number } = {}): Promise<RollbackEvent[]> {
      let select = db.selectFrom("rollback_events").selectAll();
      if (query.endpoint !== undefined) select = select.where("endpoint", "=", query.endpoint);
      const rows = await select
        .orderBy("at", "desc")
        .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000))
        .execute();
      return rows.map(toEvent);
    },
  };
}

export type RollbackGuard = ReturnType<typeof createRollbackGuard>;
