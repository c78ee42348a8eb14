import type { AlertDispatcher, AlertKind } from "../alerts/dispatcher.js";
import type { FeedbackStore } from "../feedback/store.js";
import type { RequestStatsSource } from "./request-stats.js";
import { type AlertRule, parseWindow } from "./rule-schema.js";

/** The latest drift report of one endpoint (version), as the drift scheduler keeps it. */
export interface DriftStatus {
  tenantId: string | null;
  endpoint: string;
  version: string | null;
  driftShare: number;
  datasetDrift: boolean;
  checkedAt: string;
}

/** A tenant's spending this month against its budget (null: no budget). */
export interface BudgetStatus {
  tenantId: string;
  spentMicros: number;
  budgetMicros: number | null;
}

/** What the rules read. A rule whose source is missing is reported as skipped, never fails the run. */
export interface RuleSources {
  requests?: Pick<RequestStatsSource, "stats" | "endpoints">;
  drift?: { latest(): Promise<DriftStatus[]> };
  budgets?: { status(): Promise<BudgetStatus[]> };
  quality?: Pick<FeedbackStore, "liveQuality">;
}

export interface RuleOutcome {
  rule: string;
  kind: AlertRule["kind"];
  /** The endpoint the value is for (for budget rules: the tenant id). */
  scope: string;
  value: number | null;
  threshold: number;
  firing: boolean;
  /** Why nothing was decided (too little traffic, no source). */
  skipped?: string;
  alertId?: string;
  /** False when the alert de-duplicated into one already fired. */
  isNew?: boolean;
  error?: string;
}

interface Observation {
  scope: string;
  tenantId: string | null;
  value: number | null;
  skipped?: string;
  details: Record<string, unknown>;
}

const ALERT_KIND: Record<AlertRule["kind"], AlertKind> = {
  "error-rate": "error-rate-high",
  "p99-latency": "latency-high",
  drift: "drift-detected",
  budget: "budget-threshold-reached",
  accuracy: "accuracy-low",
};

function breaches(rule: AlertRule, value: number): boolean {
  switch (rule.kind) {
    case "error-rate":
    case "p99-latency":
      return value > rule.threshold;
    case "drift":
    case "budget":
      return value >= rule.threshold;
    case "accuracy":
      return value < rule.threshold;
  }
}

async function observe(rule: AlertRule, sources: RuleSources, from: string, to: string): Promise<Observation[]> {
  const ruleTenant = rule.tenantId ?? null;
  switch (rule.kind) {
    case "error-rate":
    case "p99-latency": {
      const requests = sources.requests;
      if (!requests)
        return [{ scope: rule.endpoint ?? "*", tenantId: ruleTenant, value: null, skipped: "no source", details: {} }];
      const endpoints = rule.endpoint
        ? [rule.endpoint]
        : await requests.endpoints({ from, to, tenantId: rule.tenantId });
      const observations: Observation[] = [];
      for (const endpoint of endpoints) {
        const stats = await requests.stats({ from, to, tenantId: rule.tenantId, endpoint });
        const value =
          rule.kind === "error-rate" ? stats.errorRate : stats.p99LatencyUs === null ? null : stats.p99LatencyUs / 1000;
        const skipped =
          stats.requests < rule.minRequests ? `${stats.requests} requests < ${rule.minRequests}` : undefined;
        observations.push({
          scope: endpoint,
          tenantId: ruleTenant,
          value,
          ...(skipped ? { skipped } : {}),
          details: {
            endpoint,
            requests: stats.requests,
            errors: stats.errors,
            p99LatencyMs: stats.p99LatencyUs === null ? null : stats.p99LatencyUs / 1000,
          },
        });
      }
      return observations;
    }
    case "drift": {
      if (!sources.drift)
        return [{ scope: rule.endpoint ?? "*", tenantId: ruleTenant, value: null, skipped: "no source", details: {} }];
      const reports = (await sources.drift.latest()).filter(
        (report) =>
          (rule.endpoint === undefined || report.endpoint === rule.endpoint) &&
          (rule.tenantId === undefined || report.tenantId === rule.tenantId),
      );
      return reports.map((report) => ({
        scope: report.version ? `${report.endpoint}@${report.version}` : report.endpoint,
        tenantId: ruleTenant ?? report.tenantId,
        value: report.driftShare,
        details: { ...report },
      }));
    }
    case "budget": {
      if (!sources.budgets)
        return [{ scope: rule.tenantId ?? "*", tenantId: ruleTenant, value: null, skipped: "no source", details: {} }];
      const budgets = (await sources.budgets.status()).filter(
        (status) =>
          (rule.tenantId === undefined || status.tenantId === rule.tenantId) &&
          status.budgetMicros !== null &&
          status.budgetMicros > 0,
      );
      // The tenant is told about its own budget (its webhooks), whatever the rule's scope.
      return budgets.map((status) => ({
        scope: status.tenantId,
        tenantId: status.tenantId,
        value: status.spentMicros / (status.budgetMicros as number),
        details: { ...status },
      }));
    }
    case "accuracy": {
      const endpoint = rule.endpoint as string;
      if (!sources.quality)
        return [{ scope: endpoint, tenantId: ruleTenant, value: null, skipped: "no source", details: {} }];
      const quality = await sources.quality.liveQuality({ tenantId: rule.tenantId, endpoint, window: { from, to } });
      const skipped =
        quality.labeled < rule.minRequests ? `${quality.labeled} labels < ${rule.minRequests}` : undefined;
      return [
        {
          scope: endpoint,
          tenantId: ruleTenant,
          value: quality.accuracy,
          ...(skipped ? { skipped } : {}),
          details: { endpoint, labeled: quality.labeled, accuracy: quality.accuracy, macroF1: quality.macroF1 },
        },
      ];
    }
  }
}

export interface EvaluateRulesOptions {
  rules: readonly AlertRule[];
  sources: RuleSources;
  alerts: Pick<AlertDispatcher, "fire">;
  /** Milliseconds since the epoch: the window is [now − window, now). */
  now: number;
}

/**
 * Evaluates every rule once and fires alerts for breaches. Dedup keys are
 * `rule:<name>:<scope>:<window bucket>`, so evaluating more often than the window (every minute
 * for a 5m rule) repeats nothing within a bucket. A rule that throws is reported, not fatal.
 */
export async function evaluateRules(options: EvaluateRulesOptions): Promise<RuleOutcome[]> {
  const { rules, sources, alerts, now } = options;
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    const windowMs = parseWindow(rule.window);
    const from = new Date(now - windowMs).toISOString();
    const to = new Date(now).toISOString();
    const bucket = Math.floor(now / windowMs);
    let observations: Observation[];
    try {
      observations = await observe(rule, sources, from, to);
    } catch (error) {
      outcomes.push({
        rule: rule.name,
        kind: rule.kind,
        scope: rule.endpoint ?? "*",
        value: null,
        threshold: rule.threshold,
        firing: false,
        error: (error as Error).message,
      });
      continue;
    }
    for (const observation of observations) {
      const outcome: RuleOutcome = {
        rule: rule.name,
        kind: rule.kind,
        scope: observation.scope,
        value: observation.value,
        threshold: rule.threshold,
        firing: false,
      };
      if (observation.skipped !== undefined) outcome.skipped = observation.skipped;
      else if (observation.value === null) outcome.skipped = "no data";
      else if (breaches(rule, observation.value)) {
        outcome.firing = true;
        const kind: AlertKind =
          rule.kind === "budget" && rule.threshold >= 1 ? "budget-exhausted" : ALERT_KIND[rule.kind];
        try {
          const { alert, isNew } = await alerts.fire({
            tenantId: observation.tenantId,
            kind,
            dedupKey: `rule:${rule.name}:${observation.scope}:${bucket}`,
            severity: rule.severity,
            summary: `${rule.name}: ${rule.kind} of ${observation.scope} is ${observation.value} (threshold ${rule.threshold}, window ${rule.window})`,
            details: {
              rule: rule.name,
              kind: rule.kind,
              threshold: rule.threshold,
              value: observation.value,
              window: { from, to },
              ...observation.details,
            },
          });
          outcome.alertId = alert.id;
          outcome.isNew = isNew;
        } catch (error) {
          outcome.error = (error as Error).message;
        }
      }
      outcomes.push(outcome);
    }
  }
  return outcomes;
}
