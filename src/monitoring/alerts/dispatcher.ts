import type { Kysely } from "kysely";
import type { Clock } from "../../core/clock.js";
import { randomId } from "../../core/ids.js";
import type { Database } from "../../storage/schema.js";
import { signWebhook } from "./signature.js";

export type AlertSeverity = "info" | "warning" | "critical";

/** Noun-verb alert kinds; rules elsewhere decide when to fire them. */
export type AlertKind =
  | "budget-threshold-reached"
  | "budget-exhausted"
  | "error-rate-high"
  | "latency-high"
  | "drift-detected"
  | "accuracy-low"
  | "canary-rolled-back";

export interface AlertInput {
  /** Null for operator-wide alerts. */
  tenantId: string | null;
  kind: AlertKind;
  /** Alerts with the same key within the de-duplication window are one alert (occurrences counted). */
  dedupKey: string;
  severity: AlertSeverity;
  summary: string;
  details: Record<string, unknown>;
}

export interface AlertRecord extends AlertInput {
  id: string;
  firstFiredAt: string;
  lastFiredAt: string;
  occurrences: number;
  deliveredAt: string | null;
  deliveryAttempts: number;
  lastError: string | null;
}

export interface WebhookTarget {
  id: string;
  url: string;
  secret: string;
}

export interface AlertDispatcherOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** Webhooks that receive a tenant's alerts (null: the operator's). */
  webhooksFor: (tenantId: string | null) => Promise<WebhookTarget[]>;
  fetch?: typeof fetch;
  dedupWindowMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  onDeliveryFailed?: (alert: AlertRecord, error: string) => void;
}

function toRecord(row: Database["alerts"]): AlertRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind as AlertKind,
    dedupKey: row.dedup_key,
    severity: row.severity as AlertSeverity,
    summary: row.summary,
    details: JSON.parse(row.details) as Record<string, unknown>,
    firstFiredAt: row.first_fired_at,
    lastFiredAt: row.last_fired_at,
    occurrences: row.occurrences,
    deliveredAt: row.delivered_at,
    deliveryAttempts: row.delivery_attempts,
    lastError: row.last_error,
  };
}

/**
 * Fires alerts: stores them (de-duplicated by key within a window, so a condition that holds for an
 * hour is one alert, not sixty), then delivers new ones to the tenant's webhooks, signed
 * (signature.ts), retrying with exponential backoff on network errors, 429 and 5xx. Delivery runs
 * in the background; `idle()` waits for it (tests, shutdown).
 */
export function createAlertDispatcher(options: AlertDispatcherOptions) {
  const { db, clock } = options;
  const doFetch = options.fetch ?? fetch;
  const dedupWindowMs = options.dedupWindowMs ?? 3_600_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  async function deliverOnce(alert: AlertRecord, webhook: WebhookTarget): Promise<void> {
    const body = JSON.stringify({
      id: alert.id,
      kind: alert.kind,
      tenantId: alert.tenantId,
      severity: alert.severity,
      summary: alert.summary,
      details: alert.details,
      firedAt: alert.firstFiredAt,
    });
    const response = await doFetch(webhook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "modelport-webhooks",
        "x-modelport-event-id": alert.id,
        "x-modelport-signature": signWebhook(webhook.secret, body, Math.floor(clock.now() / 1000)),
      },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  }

  async function deliver(alert: AlertRecord): Promise<void> {
    const webhooks = await options.webhooksFor(alert.tenantId);
    if (webhooks.length === 0) return;
    let attempts = 0;
    let lastError: string | null = null;
    let pending = webhooks;
    while (pending.length > 0 && attempts < maxAttempts && !closed) {
      if (attempts > 0) await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempts - 1)));
      attempts++;
      const failed: WebhookTarget[] = [];
      for (const webhook of pending) {
        try {
          await deliverOnce(alert, webhook);
        } catch (error) {
          lastError = `${webhook.url}: ${(error as Error).message}`;
          failed.push(webhook);
        }
      }
      pending = failed;
    }
    const delivered = pending.length === 0;
    await db
      .updateTable("alerts")
      .set({
        delivery_attempts: attempts,
        delivered_at: delivered ? new Date(clock.now()).toISOString() : null,
        last_error: delivered ? null : lastError,
      })
      .where("id", "=", alert.id)
      .execute();
    if (!delivered && lastError) options.onDeliveryFailed?.(alert, lastError);
  }

  return {
    /** Records the alert; returns it and whether it is new (a new one is delivered). */
    async fire(input: AlertInput): Promise<{ alert: AlertRecord; isNew: boolean }> {
      const now = new Date(clock.now()).toISOString();
      const since = new Date(clock.now() - dedupWindowMs).toISOString();
      const existing = await db
        .selectFrom("alerts")
        .selectAll()
        .where("dedup_key", "=", input.dedupKey)
        .where("last_fired_at", ">=", since)
        .orderBy("last_fired_at", "desc")
        .executeTakeFirst();
      if (existing) {
        await db
          .updateTable("alerts")
          .set({ last_fired_at: now, occurrences: existing.occurrences + 1 })
          .where("id", "=", existing.id)
          .execute();
        return {
          alert: toRecord({ ...existing, last_fired_at: now, occurrences: existing.occurrences + 1 }),
          isNew: false,
        };
      }
      const row: Database["alerts"] = {
        id: randomId("alt", 16),
        tenant_id: input.tenantId,
        kind: input.kind,
        dedup_key: input.dedupKey,
        severity: input.severity,
        summary: input.summary,
        details: JSON.stringify(input.details),
        first_fired_at: now,
        last_fired_at: now,
        occurrences: 1,
        delivered_at: null,
        delivery_attempts: 0,
        last_error: null,
      };
      await db.insertInto("alerts").values(row).execute();
      const alert = toRecord(row);
      const delivery = deliver(alert)
        .catch((error) => options.onDeliveryFailed?.(alert, (error as Error).message))
        .finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
      return { alert, isNew: true };
    },

    async list(query: { tenantId: string | null | undefined; limit?: number }): Promise<AlertRecord[]> {
      let select = db.selectFrom("alerts").selectAll();
      if (query.tenantId !== undefined)
        select =
          query.tenantId === null
            ? select.where("tenant_id", "is", null)
            : select.where("tenant_id", "=", query.tenantId);
      const rows = await select
        .orderBy("first_fired_at", "desc")
        .limit(Math.min(Math.max(query.limit ?? 100, 1), 1000))
        .execute();
      return rows.map(toRecord);
    },

    /** Resolves when no delivery is running. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    async close(): Promise<void> {
      closed = true;
      await this.idle();
    },
  };
}

export type AlertDispatcher = ReturnType<typeof createAlertDispatcher>;
