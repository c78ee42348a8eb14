import type { Clock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { AlertDispatcher, AlertSeverity } from "../alerts/dispatcher.js";
import { compareProfiles, createDriftWindow, type DriftWindow, type ReferenceProfile } from "../drift/index.js";
import type { DriftStatus } from "../rules/index.js";
import type { DriftCheckRecord, DriftStore, StoredWindow } from "./store.js";
import { type PredictObservation, rowsFromTensors } from "./tensor-rows.js";

export interface DriftWatchSettings {
  /** A window's length: after it, the window is checked a last time and closed; the next request opens a new one. */
  windowMs: number;
  /** Fewer rows than this are not tested (small samples make every test noisy). */
  minRows: number;
  /** Share of drifted columns that means dataset drift (Evidently's default 0.5). */
  driftShare: number;
  /** Live windows kept at most (endpoints × served versions); traffic of further versions is not watched. */
  maxWindows?: number;
  severity?: AlertSeverity;
}

/** Where reference profiles come from: the registry version's recorded profile. */
export interface ReferenceProfileSource {
  get(model: string, version: number): Promise<ReferenceProfile | undefined>;
}

export interface DriftWatchOptions {
  store: DriftStore;
  profiles: ReferenceProfileSource;
  alerts: Pick<AlertDispatcher, "fire">;
  clock: Clock;
  settings: DriftWatchSettings;
  onError?: (error: unknown, context: string) => void;
  /** Every stored check (metrics). */
  onReport?: (record: DriftCheckRecord) => void;
}

/** What a check did for one window. */
export interface DriftCheckOutcome {
  endpoint: string;
  model: string;
  version: number;
  windowId: string;
  windowStartedAt: string;
  rows: number;
  status: "checked" | "skipped";
  /** Why a window was not tested. */
  reason?: string;
  record?: DriftCheckRecord;
  alert?: { id: string; isNew: boolean };
  /** Firing the alert failed (the report is stored all the same). */
  error?: string;
}

export interface LiveWindowView {
  windowId: string;
  model: string;
  version: number;
  startedAt: string;
  rows: number;
}

interface LiveWindow {
  id: string;
  endpoint: string;
  model: string;
  version: number;
  startedAt: number;
  reference: ReferenceProfile;
  window: DriftWindow;
  /** Rows arrived since the last snapshot was written. */
  dirty: boolean;
  /** Whether a row for this window exists in the store. */
  saved: boolean;
  /** Rows at the last check (-1 before the first), so a schedule does not re-test an idle window. */
  checkedRows: number;
}

type Slot =
  | { state: "loading"; pending: PredictObservation[]; ready: Promise<void> }
  | { state: "ready"; live: LiveWindow }
  /** No profile (never watched: profiles are recorded at registration only), or loading failed (retried later). */
  | { state: "unwatched"; retryAt: number };

/** Observations kept while a window's profile loads (the first requests after a start or a roll-over). */
const MAX_PENDING = 256;
const RETRY_AFTER_MS = 30_000;

/** `registry/NAME@ALIAS` (endpoint-registry.ts's target id) → NAME; other targets have no registry version. */
export function registryModelOf(target: string): string | undefined {
  const match = /^registry\/([^@/]+)@[^@/]+$/.exec(target);
  return match?.[1];
}

const keyOf = (endpoint: string, model: string, version: number) => `${endpoint}\u0000${model}\u0000${version}`;

/**
 * Live drift windows per endpoint and registry version, and the checks on them. `observe` is the
 * request-path part: it only adds the request's rows to an in-memory window (a binary search per
 * numeric column, a map update per category; no I/O, memory bounded by the reference's support).
 * `persist` writes snapshots of windows that changed; a new process continues from them. `check`
 * compares windows with their references, stores reports and fires `drift-detected` alerts,
 * de-duplicated per endpoint, version and window.
 */
export function createDriftWatch(options: DriftWatchOptions) {
  const { store, profiles, alerts, clock, settings } = options;
  const maxWindows = settings.maxWindows ?? 256;
  const slots = new Map<string, Slot>();
  const iso = (ms: number) => new Date(ms).toISOString();
  const report = (context: string) => (error: unknown) => options.onError?.(error, context);
  let ignoredObservations = 0;

  function freshWindow(endpoint: string, model: string, version: number, reference: ReferenceProfile): LiveWindow {
    return {
      id: randomId("dwn", 16),
      endpoint,
      model,
      version,
      startedAt: clock.now(),
      reference,
      window: createDriftWindow(reference),
      dirty: false,
      saved: false,
      checkedRows: -1,
    };
  }

  function feed(live: LiveWindow, observation: PredictObservation): void {
    const rows = rowsFromTensors(live.reference, observation);
    for (const row of rows) live.window.addRow(row);
    if (rows.length > 0) live.dirty = true;
  }

  async function save(live: LiveWindow, closedAt: string | null): Promise<void> {
    const snapshot = live.window.snapshot();
    await store.saveWindow({
      id: live.id,
      endpoint: live.endpoint,
      model: live.model,
      version: live.version,
      startedAt: iso(live.startedAt),
      updatedAt: iso(clock.now()),
      closedAt,
      rows: snapshot.rows,
      snapshot,
    });
    live.saved = true;
  }

  async function restoreOrOpen(
    endpoint: string,
    model: string,
    version: number,
    reference: ReferenceProfile,
    stored: StoredWindow | undefined,
  ): Promise<LiveWindow> {
    const previous = stored ?? (await store.openWindow(endpoint, model, version));
    if (previous === undefined) return freshWindow(endpoint, model, version, reference);
    try {
      return {
        id: previous.id,
        endpoint,
        model,
        version,
        startedAt: Date.parse(previous.startedAt),
        reference,
        window: createDriftWindow(reference, previous.snapshot),
        dirty: false,
        saved: true,
        checkedRows: -1,
      };
    } catch (error) {
      // A snapshot that no longer fits the profile cannot be continued: close it, start afresh.
      report(`restoring drift window ${previous.id}`)(error);
      await store.saveWindow({ ...previous, closedAt: iso(clock.now()) });
      return freshWindow(endpoint, model, version, reference);
    }
  }

  function startLoading(endpoint: string, model: string, version: number, stored?: StoredWindow): Slot {
    const key = keyOf(endpoint, model, version);
    const slot: Extract<Slot, { state: "loading" }> = { state: "loading", pending: [], ready: Promise.resolve() };
    slots.set(key, slot);
    slot.ready = (async () => {
      try {
        const reference = await profiles.get(model, version);
        if (reference === undefined) {
          slots.set(key, { state: "unwatched", retryAt: Number.POSITIVE_INFINITY });
          return;
        }
        const live = await restoreOrOpen(endpoint, model, version, reference, stored);
        slots.set(key, { state: "ready", live });
        for (const observation of slot.pending) feed(live, observation);
      } catch (error) {
        slots.set(key, { state: "unwatched", retryAt: clock.now() + RETRY_AFTER_MS });
        report(`opening the drift window of ${endpoint} (${model} v${version})`)(error);
      }
    })();
    return slot;
  }

  function liveWindows(endpoint?: string): LiveWindow[] {
    const windows: LiveWindow[] = [];
    for (const slot of slots.values())
      if (slot.state === "ready" && (endpoint === undefined || slot.live.endpoint === endpoint))
        windows.push(slot.live);
    return windows;
  }

  /** Loads the store's open windows that this process has not seen yet (after a restart), and waits for loads. */
  async function ensureLoaded(endpoint?: string): Promise<void> {
    for (const stored of await store.openWindows(endpoint)) {
      const key = keyOf(stored.endpoint, stored.model, stored.version);
      if (!slots.has(key) && slots.size < maxWindows)
        startLoading(stored.endpoint, stored.model, stored.version, stored);
    }
    const loading: Promise<void>[] = [];
    for (const slot of slots.values()) if (slot.state === "loading") loading.push(slot.ready);
    await Promise.all(loading);
  }

  /** Closes a window (after its last check) and puts a fresh one in its place, if it is still the current one. */
  async function rotate(live: LiveWindow): Promise<void> {
    const key = keyOf(live.endpoint, live.model, live.version);
    const slot = slots.get(key);
    if (slot?.state !== "ready" || slot.live !== live) return;
    // A window that never held a row leaves no trace, and a version nobody calls any more (rolled
    // over) stops taking memory: the next request for it opens a window again.
    if (live.window.rows === 0 && !live.saved) {
      slots.delete(key);
      return;
    }
    slots.set(key, { state: "ready", live: freshWindow(live.endpoint, live.model, live.version, live.reference) });
    await save(live, iso(clock.now()));
  }

  async function checkWindow(live: LiveWindow, force: boolean): Promise<DriftCheckOutcome> {
    const rows = live.window.rows;
    const base = {
      endpoint: live.endpoint,
      model: live.model,
      version: live.version,
      windowId: live.id,
      windowStartedAt: iso(live.startedAt),
      rows,
    };
    if (rows < settings.minRows)
      return { ...base, status: "skipped", reason: `${rows} rows < minRows ${settings.minRows}` };
    if (!force && rows === live.checkedRows)
      return { ...base, status: "skipped", reason: "no new rows since the last check" };
    const snapshot = live.window.snapshot();
    let result: ReturnType<typeof compareProfiles>;
    try {
      result = compareProfiles(live.reference, snapshot, { driftShare: settings.driftShare });
    } catch (error) {
      // No column had values on both sides (e.g. requests without the profiled inputs).
      if (error instanceof ModelportError && error.code === "MP_INVALID_REQUEST")
        return { ...base, status: "skipped", reason: error.message };
      throw error;
    }
    live.checkedRows = rows;
    const now = clock.now();
    const record: DriftCheckRecord = {
      id: randomId("drr", 16),
      ...base,
      checkedAt: iso(now),
      driftShare: result.driftShare,
      datasetDrift: result.datasetDrift,
      alertId: null,
      report: result,
    };
    const outcome: DriftCheckOutcome = { ...base, status: "checked", record };
    if (result.datasetDrift) {
      const drifted = result.columns.filter((column) => column.drift);
      try {
        const fired = await alerts.fire({
          tenantId: null,
          kind: "drift-detected",
          dedupKey: `drift:${live.endpoint}:${live.model}@${live.version}:${live.id}`,
          severity: settings.severity ?? "warning",
          summary: `Data drift on ${live.endpoint} (${live.model} v${live.version}): ${drifted.length} of ${result.columns.length} columns drifted (share ${Number(result.driftShare.toFixed(4))} ≥ ${settings.driftShare}) over ${rows} rows since ${base.windowStartedAt}`,
          details: {
            endpoint: live.endpoint,
            model: live.model,
            version: live.version,
            windowId: live.id,
            windowStartedAt: base.windowStartedAt,
            rows,
            driftShare: result.driftShare,
            threshold: settings.driftShare,
            reportId: record.id,
            checkedAt: record.checkedAt,
            driftedColumns: drifted.map(({ name, test, statistic, pValue, threshold }) => ({
              name,
              test,
              statistic,
              pValue,
              threshold,
            })),
          },
        });
        record.alertId = fired.alert.id;
        outcome.alert = { id: fired.alert.id, isNew: fired.isNew };
      } catch (error) {
        outcome.error = (error as Error).message;
        report(`firing the drift alert of ${live.endpoint}`)(error);
      }
    }
    await store.insertReport(record);
    live.dirty = false;
    await save(live, null);
    options.onReport?.(record);
    return outcome;
  }

  return {
    /** Request path: adds a successful prediction's rows to its window. Never throws, never waits. */
    observe(observation: PredictObservation): void {
      const model = registryModelOf(observation.target);
      const version = Number(observation.modelVersion);
      if (model === undefined || !Number.isSafeInteger(version) || version < 1) return;
      const key = keyOf(observation.endpoint, model, version);
      let slot = slots.get(key);
      if (slot?.state === "unwatched" && clock.now() >= slot.retryAt) {
        slots.delete(key);
        slot = undefined;
      }
      if (slot === undefined) {
        if (slots.size >= maxWindows) {
          ignoredObservations++;
          return;
        }
        slot = startLoading(observation.endpoint, model, version);
      }
      try {
        if (slot.state === "ready") feed(slot.live, observation);
        else if (slot.state === "loading") {
          if (slot.pending.length < MAX_PENDING) slot.pending.push(observation);
          else ignoredObservations++;
        }
      } catch (error) {
        report(`adding rows to the drift window of ${observation.endpoint}`)(error);
      }
    },

    /** Writes the snapshots of windows that changed since their last one. */
    async persist(): Promise<void> {
      for (const live of liveWindows()) {
        if (!live.dirty) continue;
        live.dirty = false;
        try {
          await save(live, null);
        } catch (error) {
          live.dirty = true;
          throw error;
        }
      }
    },

    /**
     * The schedule: restores stored windows, checks every window with new rows, closes windows
     * older than `windowMs` after their last check.
     */
    async checkAll(): Promise<DriftCheckOutcome[]> {
      await ensureLoaded();
      const outcomes: DriftCheckOutcome[] = [];
      for (const live of liveWindows()) {
        try {
          outcomes.push(await checkWindow(live, false));
          if (clock.now() - live.startedAt >= settings.windowMs) await rotate(live);
        } catch (error) {
          report(`checking drift of ${live.endpoint} (${live.model} v${live.version})`)(error);
        }
      }
      return outcomes;
    },

    /** On demand: checks the endpoint's windows now (`rotate`: then close them and start new ones). */
    async check(endpoint: string, checkOptions: { rotate?: boolean } = {}): Promise<DriftCheckOutcome[]> {
      await ensureLoaded(endpoint);
      const outcomes: DriftCheckOutcome[] = [];
      for (const live of liveWindows(endpoint)) {
        outcomes.push(await checkWindow(live, true));
        if (checkOptions.rotate) await rotate(live);
      }
      return outcomes;
    },

    /** The endpoint's open windows. */
    async windows(endpoint: string): Promise<LiveWindowView[]> {
      await ensureLoaded(endpoint);
      return liveWindows(endpoint).map((live) => ({
        windowId: live.id,
        model: live.model,
        version: live.version,
        startedAt: iso(live.startedAt),
        rows: live.window.rows,
      }));
    },

    /** The endpoint's stored checks, newest first. */
    reports: (endpoint: string, limit = 20) => store.reports(endpoint, Math.min(Math.max(limit, 1), 200)),

    /** The latest check per endpoint and version, for the alert rules' `drift` kind. */
    async latest(): Promise<DriftStatus[]> {
      const since = iso(clock.now() - 2 * settings.windowMs);
      return (await store.latestPerVersion(since)).map((summary) => ({
        tenantId: null,
        endpoint: summary.endpoint,
        version: `${summary.model}@${summary.version}`,
        driftShare: summary.driftShare,
        datasetDrift: summary.datasetDrift,
        checkedAt: summary.checkedAt,
      }));
    },

    /** Observations not added because the window limit was reached or a profile was still loading. */
    ignoredObservations: () => ignoredObservations,
  };
}

export type DriftWatch = ReturnType<typeof createDriftWatch>;
