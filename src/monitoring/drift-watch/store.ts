import type { Kysely } from "kysely";
import { attempt } from "../../storage/errors.js";
import type { Database } from "../../storage/schema.js";
import type { ProfileDriftReport, WindowProfile } from "../drift/index.js";

/** A window as stored: its identity, when it started and its last snapshot. */
export interface StoredWindow {
  id: string;
  endpoint: string;
  model: string;
  version: number;
  startedAt: string;
  updatedAt: string;
  closedAt: string | null;
  rows: number;
  snapshot: WindowProfile;
}

/** One drift check of one window, as stored and as the admin API shows it. */
export interface DriftCheckRecord {
  id: string;
  endpoint: string;
  model: string;
  version: number;
  windowId: string;
  windowStartedAt: string;
  checkedAt: string;
  rows: number;
  driftShare: number;
  datasetDrift: boolean;
  /** The `drift-detected` alert this check fired or de-duplicated into (null: no drift, or firing failed). */
  alertId: string | null;
  report: ProfileDriftReport;
}

export type DriftCheckSummary = Pick<
  DriftCheckRecord,
  "endpoint" | "model" | "version" | "checkedAt" | "driftShare" | "datasetDrift"
>;

function toWindow(row: Database["drift_windows"]): StoredWindow {
  return {
    id: row.id,
    endpoint: row.endpoint,
    model: row.model,
    version: Number(row.model_version),
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    closedAt: row.closed_at,
    rows: Number(row.rows),
    snapshot: JSON.parse(row.snapshot) as WindowProfile,
  };
}

function toRecord(row: Database["drift_reports"]): DriftCheckRecord {
  return {
    id: row.id,
    endpoint: row.endpoint,
    model: row.model,
    version: Number(row.model_version),
    windowId: row.window_id,
    windowStartedAt: row.window_started_at,
    checkedAt: row.checked_at,
    rows: Number(row.rows),
    driftShare: Number(row.drift_share),
    datasetDrift: Number(row.dataset_drift) === 1,
    alertId: row.alert_id,
    report: JSON.parse(row.report) as ProfileDriftReport,
  };
}

/** Drift windows and reports (migrations/0011-drift.ts); operator data, no tenant. */
export function createDriftStore(db: Kysely<Database>) {
  return {
    /** Windows still open (one per endpoint, model and version), optionally of one endpoint. */
    async openWindows(endpoint?: string): Promise<StoredWindow[]> {
      let query = db.selectFrom("drift_windows").selectAll().where("closed_at", "is", null);
      if (endpoint !== undefined) query = query.where("endpoint", "=", endpoint);
      const rows = await attempt("reading drift windows", () => query.orderBy("started_at").execute());
      return rows.map(toWindow);
    },

    async openWindow(endpoint: string, model: string, version: number): Promise<StoredWindow | undefined> {
      const row = await attempt("reading a drift window", () =>
        db
          .selectFrom("drift_windows")
          .selectAll()
          .where("endpoint", "=", endpoint)
          .where("model", "=", model)
          .where("model_version", "=", version)
          .where("closed_at", "is", null)
          .orderBy("started_at", "desc")
          .executeTakeFirst(),
      );
      return row === undefined ? undefined : toWindow(row);
    },

    /** Writes a window's snapshot (inserting it the first time). */
    async saveWindow(window: StoredWindow): Promise<void> {
      const snapshot = JSON.stringify(window.snapshot);
      await attempt("saving a drift window", async () => {
        const updated = await db
          .updateTable("drift_windows")
          .set({ updated_at: window.updatedAt, closed_at: window.closedAt, rows: window.rows, snapshot })
          .where("id", "=", window.id)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) > 0) return;
        await db
          .insertInto("drift_windows")
          .values({
            id: window.id,
            endpoint: window.endpoint,
            model: window.model,
            model_version: window.version,
            started_at: window.startedAt,
            updated_at: window.updatedAt,
            closed_at: window.closedAt,
            rows: window.rows,
            snapshot,
          })
          .execute();
      });
    },

    async insertReport(record: DriftCheckRecord): Promise<void> {
      await attempt("saving a drift report", () =>
        db
          .insertInto("drift_reports")
          .values({
            id: record.id,
            endpoint: record.endpoint,
            model: record.model,
            model_version: record.version,
            window_id: record.windowId,
            window_started_at: record.windowStartedAt,
            checked_at: record.checkedAt,
            rows: record.rows,
            drift_share: record.driftShare,
            dataset_drift: record.datasetDrift ? 1 : 0,
            report: JSON.stringify(record.report),
            alert_id: record.alertId,
          })
          .execute(),
      );
    },

    /** An endpoint's reports, newest first. */
    async reports(endpoint: string, limit: number): Promise<DriftCheckRecord[]> {
      const rows = await attempt("reading drift reports", () =>
        db
          .selectFrom("drift_reports")
          .selectAll()
          .where("endpoint", "=", endpoint)
          .orderBy("checked_at", "desc")
          .orderBy("id", "desc")
          .limit(limit)
          .execute(),
      );
      return rows.map(toRecord);
    },

    /** The newest check of every endpoint, model and version checked since `since` (without the reports). */
    async latestPerVersion(since: string): Promise<DriftCheckSummary[]> {
      const rows = await attempt("reading drift reports", () =>
        db
          .selectFrom("drift_reports")
          .select(["endpoint", "model", "model_version", "checked_at", "drift_share", "dataset_drift"])
          .where("checked_at", ">=", since)
          .orderBy("checked_at", "desc")
          .limit(10_000)
          .execute(),
      );
      const latest = new Map<string, DriftCheckSummary>();
      for (const row of rows) {
        const key = `${row.endpoint}\u0000${row.model}\u0000${row.model_version}`;
        if (!latest.has(key))
          latest.set(key, {
            endpoint: row.endpoint,
            model: row.model,
            version: Number(row.model_version),
            checkedAt: row.checked_at,
            driftShare: Number(row.drift_share),
            datasetDrift: Number(row.dataset_drift) === 1,
          });
      }
      return [...latest.values()];
    },
  };
}

export type DriftStore = ReturnType<typeof createDriftStore>;
