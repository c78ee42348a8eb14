import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import type { Kysely, Selectable } from "kysely";
import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import { attempt } from "../../storage/errors.js";
import type { Database, TrainingRunsTable } from "../../storage/schema.js";

export type RunStatus = "queued" | "running" | "succeeded" | "failed";
export const runStatuses: readonly RunStatus[] = ["queued", "running", "succeeded", "failed"];
export type ParamValue = string | number | boolean | null;

export interface RunRecord {
  id: string;
  tenantId: string;
  name: string;
  kind: "trainer" | "external";
  status: RunStatus;
  params: Record<string, unknown>;
  /** `name@sha256` of the dataset version. */
  dataset: string | null;
  gitCommit: string | null;
  command: string | null;
  exitCode: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
}

export interface MetricPoint {
  step: number;
  value: number;
}

export interface ArtifactRecord {
  path: string;
  sha256: string;
  size: number;
  createdAt: string;
}

export interface RunDetail {
  run: RunRecord;
  /** Every logged point per metric name, by step. */
  metrics: Record<string, MetricPoint[]>;
  /** The value at the highest step of each metric. */
  finalMetrics: Record<string, number>;
  artifacts: ArtifactRecord[];
}

export interface RunComparison {
  runs: Pick<RunRecord, "id" | "name" | "status" | "dataset" | "durationMs">[];
  /** Each param or metric name → one value per run, in the order asked (null where absent). */
  params: Record<string, unknown[]>;
  metrics: Record<string, (number | null)[]>;
}

export interface CreateRunInput {
  name?: string;
  kind?: RunRecord["kind"];
  status?: "queued" | "running";
  params?: Record<string, unknown>;
  dataset?: string | null;
  command?: string | null;
  /** Default: `git rev-parse HEAD` of the process's cwd is NOT read here; pass it (see readGitCommit). */
  gitCommit?: string | null;
}

export interface TrackingStore {
  createRun(tenantId: string, input?: CreateRunInput): Promise<RunRecord>;
  /** queued → running; sets started_at. */
  startRun(tenantId: string, runId: string): Promise<RunRecord>;
  /**
   * A fresh attempt of a queued job's run: drops the metrics and artifacts an interrupted attempt
   * logged and sets the status (`running` when an attempt starts, `queued` when it is put back).
   */
  resetRun(tenantId: string, runId: string, status: "queued" | "running"): Promise<RunRecord>;
  /** Sets the final status, ended_at and the duration since started_at (or created_at). */
  finishRun(
    tenantId: string,
    runId: string,
    outcome: { status: "succeeded" | "failed"; error?: string | null; exitCode?: number | null },
  ): Promise<RunRecord>;
  /** Merges params into the run's params. */
  logParams(tenantId: string, runId: string, params: Record<string, unknown>): Promise<void>;
  /** `step` defaults to one past the metric's last step (0 for the first point). */
  logMetric(tenantId: string, runId: string, metric: { name: string; value: number; step?: number }): Promise<void>;
  /** Reads the file to record its sha256 and size; the stored path is relative to `baseDir` when inside it. */
  logArtifact(tenantId: string, runId: string, artifact: { path: string; baseDir?: string }): Promise<ArtifactRecord>;
  getRun(tenantId: string, runId: string): Promise<RunRecord>;
  showRun(tenantId: string, runId: string): Promise<RunDetail>;
  /** Newest first. */
  listRuns(tenantId: string, filter?: { status?: RunStatus; limit?: number }): Promise<RunRecord[]>;
  compareRuns(tenantId: string, runIds: readonly string[]): Promise<RunComparison>;
}

export interface TrackingStoreOptions {
  db: Kysely<Database>;
  clock?: Clock;
}

const metricName = /^[A-Za-z0-9_.:/-]{1,128}$/;

function toRecord(row: Selectable<TrainingRunsTable>): RunRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    kind: row.kind === "external" ? "external" : "trainer",
    status: row.status as RunStatus,
    params: JSON.parse(row.params) as Record<string, unknown>,
    dataset: row.dataset,
    gitCommit: row.git_commit,
    command: row.command,
    exitCode: row.exit_code === null ? null : Number(row.exit_code),
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
  };
}

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

/** Runs, metrics and artifacts in the gateway's database; every query filters on the tenant. */
export function createTrackingStore(options: TrackingStoreOptions): TrackingStore {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const now = () => new Date(clock.now()).toISOString();

  async function getRun(tenantId: string, runId: string): Promise<RunRecord> {
    const row = await attempt("reading a run", () =>
      db
        .selectFrom("training_runs")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", runId)
        .executeTakeFirst(),
    );
    if (row === undefined) throw new ModelportError("MP_NOT_FOUND", `no run '${runId}'`, { param: "run" });
    return toRecord(row);
  }

  async function metricsOf(tenantId: string, runId: string): Promise<Record<string, MetricPoint[]>> {
    const rows = await attempt("reading run metrics", () =>
      db
        .selectFrom("training_run_metrics")
        .select(["name", "step", "value"])
        .where("tenant_id", "=", tenantId)
        .where("run_id", "=", runId)
        .orderBy("name")
        .orderBy("step")
        .execute(),
    );
    const out: Record<string, MetricPoint[]> = {};
    for (const row of rows) {
      const points = out[row.name] ?? [];
      points.push({ step: Number(row.step), value: Number(row.value) });
      out[row.name] = points;
    }
    return out;
  }

  const finalOf = (metrics: Record<string, MetricPoint[]>) =>
    Object.fromEntries(
      Object.entries(metrics).map(([name, points]) => [name, (points[points.length - 1] as MetricPoint).value]),
    );

  return {
    async createRun(tenantId, input = {}) {
      const id = randomId("run");
      const at = now();
      const status = input.status ?? "queued";
      const name = input.name ?? id;
      if (name.length === 0 || name.length > 200) throw invalid("a run name has 1–200 characters", "name");
      await attempt("creating a run", () =>
        db
          .insertInto("training_runs")
          .values({
            id,
            tenant_id: tenantId,
            name,
            kind: input.kind ?? "trainer",
            status,
            params: JSON.stringify(input.params ?? {}),
            dataset: input.dataset ?? null,
            git_commit: input.gitCommit ?? null,
            command: input.command ?? null,
            exit_code: null,
            error: null,
            created_at: at,
            started_at: status === "running" ? at : null,
            ended_at: null,
            duration_ms: null,
          })
          .execute(),
      );
      return getRun(tenantId, id);
    },

    async startRun(tenantId, runId) {
      const run = await getRun(tenantId, runId);
      if (run.status !== "queued") return run;
      await attempt("starting a run", () =>
        db
          .updateTable("training_runs")
          .set({ status: "running", started_at: now() })
          .where("tenant_id", "=", tenantId)
          .where("id", "=", runId)
          .execute(),
      );
      return getRun(tenantId, runId);
    },

    async resetRun(tenantId, runId, status) {
      await getRun(tenantId, runId);
      await attempt("resetting a run", () =>
        db.transaction().execute(async (trx) => {
          await trx
            .deleteFrom("training_run_metrics")
            .where("tenant_id", "=", tenantId)
            .where("run_id", "=", runId)
            .execute();
          await trx
            .deleteFrom("training_run_artifacts")
            .where("tenant_id", "=", tenantId)
            .where("run_id", "=", runId)
            .execute();
          await trx
            .updateTable("training_runs")
            .set({
              status,
              started_at: status === "running" ? now() : null,
              ended_at: null,
              duration_ms: null,
              error: null,
              exit_code: null,
            })
            .where("tenant_id", "=", tenantId)
            .where("id", "=", runId)
            .execute();
        }),
      );
      return getRun(tenantId, runId);
    },

    async finishRun(tenantId, runId, outcome) {
      if (outcome.status !== "succeeded" && outcome.status !== "failed")
        throw invalid("a run finishes as succeeded or failed", "status");
      const run = await getRun(tenantId, runId);
      const endedAt = now();
      const started = Date.parse(run.startedAt ?? run.createdAt);
      await attempt("finishing a run", () =>
        db
          .updateTable("training_runs")
          .set({
            status: outcome.status,
            ended_at: endedAt,
            started_at: run.startedAt ?? run.createdAt,
            duration_ms: Math.max(0, Math.round(Date.parse(endedAt) - started)),
            error: outcome.error ?? null,
            exit_code: outcome.exitCode ?? null,
          })
          .where("tenant_id", "=", tenantId)
          .where("id", "=", runId)
          .execute(),
      );
      return getRun(tenantId, runId);
    },

    async logParams(tenantId, runId, params) {
      const run = await getRun(tenantId, runId);
      await attempt("logging run params", () =>
        db
          .updateTable("training_runs")
          .set({ params: JSON.stringify({ ...run.params, ...params }) })
          .where("tenant_id", "=", tenantId)
          .where("id", "=", runId)
          .execute(),
      );
    },

    async logMetric(tenantId, runId, metric) {
      if (typeof metric.name !== "string" || !metricName.test(metric.name))
        throw invalid(`metric name ${JSON.stringify(metric.name)} is invalid (letters, digits, _ . : / -)`, "name");
      if (typeof metric.value !== "number" || !Number.isFinite(metric.value))
        throw invalid(`metric '${metric.name}' needs a finite number`, "value");
      if (metric.step !== undefined && (!Number.isInteger(metric.step) || metric.step < 0))
        throw invalid("step must be a non-negative integer", "step");
      await getRun(tenantId, runId);
      let step = metric.step;
      if (step === undefined) {
        const last = await attempt("reading the last step", () =>
          db
            .selectFrom("training_run_metrics")
            .select((eb) => eb.fn.max("step").as("step"))
            .where("tenant_id", "=", tenantId)
            .where("run_id", "=", runId)
            .where("name", "=", metric.name)
            .executeTakeFirst(),
        );
        step = last?.step === null || last?.step === undefined ? 0 : Number(last.step) + 1;
      }
      await attempt("logging a metric", () =>
        db
          .insertInto("training_run_metrics")
          .values({
            tenant_id: tenantId,
            run_id: runId,
            step: step as number,
            name: metric.name,
            value: metric.value,
            recorded_at: now(),
          })
          .execute(),
      );
    },

    async logArtifact(tenantId, runId, artifact) {
      await getRun(tenantId, runId);
      const absolute = resolve(artifact.baseDir ?? process.cwd(), artifact.path);
      let bytes: Buffer;
      try {
        bytes = await readFile(absolute);
      } catch (error) {
        throw new ModelportError("MP_INVALID_REQUEST", `cannot read artifact ${absolute}`, {
          param: "path",
          cause: error,
        });
      }
      const base = artifact.baseDir === undefined ? undefined : resolve(artifact.baseDir);
      const inside = base !== undefined && !relative(base, absolute).startsWith("..");
      const record: ArtifactRecord = {
        path: inside ? relative(base as string, absolute) : absolute,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        size: bytes.length,
        createdAt: now(),
      };
      await attempt("logging an artifact", async () => {
        // Logging the same path again (a rewritten file) replaces its record.
        await db
          .deleteFrom("training_run_artifacts")
          .where("tenant_id", "=", tenantId)
          .where("run_id", "=", runId)
          .where("path", "=", record.path)
          .execute();
        await db
          .insertInto("training_run_artifacts")
          .values({
            tenant_id: tenantId,
            run_id: runId,
            path: record.path,
            sha256: record.sha256,
            size: record.size,
            created_at: record.createdAt,
          })
          .execute();
      });
      return record;
    },

    getRun,

    async showRun(tenantId, runId) {
      const run = await getRun(tenantId, runId);
      const metrics = await metricsOf(tenantId, runId);
      const artifacts = await attempt("reading run artifacts", () =>
        db
          .selectFrom("training_run_artifacts")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .where("run_id", "=", runId)
          .orderBy("path")
          .execute(),
      );
      return {
        run,
        metrics,
        finalMetrics: finalOf(metrics),
        artifacts: artifacts.map((row) => ({
          path: row.path,
          sha256: row.sha256,
          size: Number(row.size),
          createdAt: row.created_at,
        })),
      };
    },

    async listRuns(tenantId, filter = {}) {
      if (filter.status !== undefined && !runStatuses.includes(filter.status))
        throw invalid(`unknown status '${filter.status}'`, "status");
      let query = db.selectFrom("training_runs").selectAll().where("tenant_id", "=", tenantId);
      if (filter.status !== undefined) query = query.where("status", "=", filter.status);
      const rows = await attempt("listing runs", () =>
        query
          .orderBy("created_at", "desc")
          .orderBy("id", "desc")
          .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000))
          .execute(),
      );
      return rows.map(toRecord);
    },

    async compareRuns(tenantId, runIds) {
      if (runIds.length < 2) throw invalid("compare needs at least two runs", "runs");
      const runs = await Promise.all(runIds.map((id) => getRun(tenantId, id)));
      const finals = await Promise.all(runIds.map(async (id) => finalOf(await metricsOf(tenantId, id))));
      const paramNames = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort();
      const metricNames = [...new Set(finals.flatMap((final) => Object.keys(final)))].sort();
      return {
        runs: runs.map((run) => ({
          id: run.id,
          name: run.name,
          status: run.status,
          dataset: run.dataset,
          durationMs: run.durationMs,
        })),
        params: Object.fromEntries(paramNames.map((name) => [name, runs.map((run) => run.params[name] ?? null)])),
        metrics: Object.fromEntries(metricNames.map((name) => [name, finals.map((final) => final[name] ?? null)])),
      };
    },
  };
}
