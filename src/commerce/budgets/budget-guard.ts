import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";

/** One budget to check: a tenant's or a key's monthly budget, in micro-units. */
export interface BudgetScope {
  /** `tenant:<id>` or `key:<id>`. */
  key: string;
  tenantId: string;
  keyId?: string | undefined;
  budgetMicros: number;
}

export interface BudgetThresholdEvent {
  scope: BudgetScope;
  month: string;
  spentMicros: number;
  /** `soft`: the soft threshold was crossed; `hard`: the budget is spent. */
  level: "soft" | "hard";
}

export interface BudgetReservation {
  /** Converts the reservation into the actual charge (refunding the difference). Idempotent. */
  settle(actualMicros: number): void;
}

export interface BudgetGuardOptions {
  clock: Clock;
  /** Micro-units charged to a scope since the start of the month, from the ledger (flushed records). */
  spentSince(scope: BudgetScope, monthStart: string): Promise<number>;
  /** Flushes this process's ledger queue, so `spentSince` includes every settled charge. */
  flushLedger?: () => Promise<void>;
  /** Re-read spend from the ledger this often (other processes' charges). Default 5 s. */
  refreshMs?: number;
  /** Share of the budget at which `onThreshold` fires with level `soft`. Default 80. */
  softPercent?: number;
  onThreshold?: (event: BudgetThresholdEvent) => void;
  /** A background refresh failed (the figures stay as they were; retried after `refreshMs`). */
  onRefreshError?: (error: unknown) => void;
}

interface ScopeState {
  month: string;
  /** Charges known: the ledger's figure at the last refresh plus charges settled here since. */
  committed: number;
  /** Estimates of requests in flight in this process. */
  reserved: number;
  refreshedAt: number;
  /** The ledger's figure has been read at least once this month. */
  loaded: boolean;
  refreshing: Promise<void> | undefined;
  /** Charges settled while a refresh runs: they may miss the ledger's figure, so they are added back. */
  settledDuringRefresh: number;
  softFired: boolean;
  hardFired: boolean;
}

function monthOf(now: number): { month: string; start: string } {
  const date = new Date(now);
  const month = date.toISOString().slice(0, 7);
  return { month, start: `${month}-01T00:00:00.000Z` };
}

/**
 * Monthly budgets, enforced by reservation: admission reserves the request's maximum cost
 * (prompt estimate plus `max_tokens` at the output price), refusing with MP_BUDGET_EXCEEDED when
 * committed + reserved + estimate would pass the budget; completion settles the reservation to the
 * real charge. Within a process this is exact: concurrent requests cannot together pass the
 * budget. Across processes each one sees the others' charges at its next refresh (the ledger is
 * the shared truth), so the overshoot is bounded by the other processes' in-flight requests in a
 * refresh interval. Only a scope's first load in a month is awaited; later refreshes run in the
 * background. The soft threshold and exhaustion fire `onThreshold` once per scope and month.
 */
export function createBudgetGuard(options: BudgetGuardOptions) {
  const { clock } = options;
  const refreshMs = options.refreshMs ?? 5_000;
  const softPercent = options.softPercent ?? 80;
  const states = new Map<string, ScopeState>();

  async function refresh(scope: BudgetScope, state: ScopeState, monthStart: string): Promise<void> {
    state.refreshing ??= (async () => {
      state.settledDuringRefresh = 0;
      await options.flushLedger?.();
      const spent = await options.spentSince(scope, monthStart);
      // Counting a charge twice (flushed just in time) errs towards refusing, never towards overspending.
      state.committed = spent + state.settledDuringRefresh;
      state.refreshedAt = clock.now();
      state.loaded = true;
    })().finally(() => {
      state.refreshing = undefined;
    });
    await state.refreshing;
  }

  async function stateFor(scope: BudgetScope): Promise<ScopeState> {
    const now = clock.now();
    const { month, start } = monthOf(now);
    let state = states.get(scope.key);
    if (!state || state.month !== month) {
      state = {
        month,
        committed: 0,
        reserved: 0,
        refreshedAt: 0,
        loaded: false,
        refreshing: undefined,
        settledDuringRefresh: 0,
        softFired: false,
        hardFired: false,
      };
      states.set(scope.key, state);
      await refresh(scope, state, start);
    } else if (!state.loaded) {
      // Never loaded this month (the first load is running for a concurrent request, or failed): wait.
      await refresh(scope, state, start);
    } else if (now - state.refreshedAt > refreshMs && state.refreshing === undefined) {
      // Later refreshes run in the background. This process's own charges are in `committed`
      // already (settled here), so waiting would only show other processes' charges a moment
      // sooner, while every request arriving during the ledger flush and the query would stall.
      const stale = state;
      refresh(scope, stale, start).catch((error) => {
        stale.refreshedAt = clock.now(); // back off for refreshMs instead of retrying per request
        options.onRefreshError?.(error);
      });
    }
    return state;
  }

  function notify(scope: BudgetScope, state: ScopeState): void {
    const spent = state.committed;
    if (!state.hardFired && spent >= scope.budgetMicros) {
      state.hardFired = true;
      state.softFired = true;
      options.onThreshold?.({ scope, month: state.month, spentMicros: spent, level: "hard" });
    } else if (!state.softFired && spent * 100 >= scope.budgetMicros * softPercent) {
      state.softFired = true;
      options.onThreshold?.({ scope, month: state.month, spentMicros: spent, level: "soft" });
    }
  }

  return {
    /**
     * Reserves `estimateMicros` on every scope, all or nothing. Resolves to a reservation to settle,
     * or rejects with MP_BUDGET_EXCEEDED naming the scope.
     */
    async reserve(scopes: readonly BudgetScope[], estimateMicros: number): Promise<BudgetReservation> {
      const resolved: [BudgetScope, ScopeState][] = [];
      for (const scope of scopes) resolved.push([scope, await stateFor(scope)]);
      // Checked and charged with no await in between: one event loop turn, so no race in-process.
      for (const [scope, state] of resolved) {
        if (state.committed + state.reserved + estimateMicros > scope.budgetMicros) {
          notify(scope, state);
          const which = scope.keyId ? `API key ${scope.keyId}` : "tenant";
          throw new ModelportError(
            "MP_BUDGET_EXCEEDED",
            `the ${which}'s monthly budget is spent (${state.committed} of ${scope.budgetMicros} micro-USD used); raise the budget or wait for next month`,
          );
        }
      }
      for (const [, state] of resolved) state.reserved += estimateMicros;
      let settled = false;
      return {
        settle(actualMicros) {
          if (settled) return;
          settled = true;
          for (const [scope, state] of resolved) {
            state.reserved -= estimateMicros;
            // A charge from a month that has ended is the ledger's business, not this month's budget.
            if (states.get(scope.key) === state) {
              state.committed += Math.max(0, actualMicros);
              if (state.refreshing) state.settledDuringRefresh += Math.max(0, actualMicros);
              notify(scope, state);
            }
          }
        },
      };
    },

    /** Current view of a scope (for the admin API and tests). */
    async status(scope: BudgetScope): Promise<{ month: string; committedMicros: number; reservedMicros: number }> {
      const state = await stateFor(scope);
      return { month: state.month, committedMicros: state.committed, reservedMicros: state.reserved };
    },
  };
}

export type BudgetGuard = ReturnType<typeof createBudgetGuard>;
