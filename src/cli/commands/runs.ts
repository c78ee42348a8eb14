import type { Command } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import { printJson, printTable, UsageError } from "../output.js";
import { withTenantContext } from "../storage-context.js";

interface RunsFlags extends StorageFlags {
  tenant?: string;
  json?: boolean;
}

const formatValue = (value: unknown): string =>
  value === null || value === undefined
    ? "-"
    : typeof value === "number"
      ? String(Number(value.toPrecision(6)))
      : JSON.stringify(value);

async function tracking(handle: { db: import("kysely").Kysely<import("../../storage/schema.js").Database> }) {
  const { createTrackingStore } = await import("../../training/tracking/tracking-store.js");
  return createTrackingStore({ db: handle.db });
}

export async function runRunsList(flags: RunsFlags & { status?: string; limit?: number }): Promise<void> {
  await withTenantContext(flags, async ({ handle, tenantId }) => {
    const store = await tracking(handle);
    const runs = await store.listRuns(tenantId, {
      ...(flags.status === undefined ? {} : { status: flags.status as "running" }),
      ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    });
    if (flags.json) return printJson(runs);
    printTable(
      runs.map((run) => ({
        ...run,
        duration: run.durationMs === null ? null : `${(run.durationMs / 1000).toFixed(1)}s`,
        dataset: run.dataset === null ? null : run.dataset.replace(/@([0-9a-f]{12})[0-9a-f]*$/, "@$1"),
      })),
      ["id", "name", "kind", "status", "dataset", "duration", "createdAt"],
    );
  });
}

export async function runRunsShow(id: string, flags: RunsFlags): Promise<void> {
  await withTenantContext(flags, async ({ handle, tenantId }) => {
    const detail = await (await tracking(handle)).showRun(tenantId, id);
    if (flags.json) return printJson(detail);
    const { run } = detail;
    const lines = [
      `run ${run.id} (${run.name}) ${run.kind} ${run.status}`,
      `dataset: ${run.dataset ?? "-"}  git: ${run.gitCommit ?? "-"}`,
      `started: ${run.startedAt ?? "-"}  ended: ${run.endedAt ?? "-"}  duration: ${run.durationMs === null ? "-" : `${(run.durationMs / 1000).toFixed(1)}s`}`,
    ];
    if (run.command !== null) lines.push(`command: ${run.command}  exit: ${run.exitCode ?? "-"}`);
    if (run.error !== null) lines.push(`error: ${run.error}`);
    lines.push(`params: ${JSON.stringify(run.params)}`);
    lines.push("metrics (final, steps):");
    for (const [name, points] of Object.entries(detail.metrics)) {
      lines.push(`  ${name} ${formatValue(detail.finalMetrics[name])} (${points.length} steps)`);
    }
    lines.push("artifacts:");
    for (const artifact of detail.artifacts)
      lines.push(`  ${artifact.path} ${artifact.size} B sha256 ${artifact.sha256}`);
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}

export async function runRunsCompare(ids: string[], flags: RunsFlags): Promise<void> {
  if (ids.length < 2) throw new UsageError("runs compare needs at least two run ids");
  await withTenantContext(flags, async ({ handle, tenantId }) => {
    const comparison = await (await tracking(handle)).compareRuns(tenantId, ids);
    if (flags.json) return printJson(comparison);
    const header = ["", ...comparison.runs.map((run) => run.id)];
    const rows: Record<string, unknown>[] = [
      Object.fromEntries(header.map((column, i) => [column, i === 0 ? "name" : comparison.runs[i - 1]?.name])),
      Object.fromEntries(header.map((column, i) => [column, i === 0 ? "status" : comparison.runs[i - 1]?.status])),
    ];
    for (const [name, values] of Object.entries(comparison.params)) {
      rows.push(
        Object.fromEntries(header.map((column, i) => [column, i === 0 ? `param ${name}` : formatValue(values[i - 1])])),
      );
    }
    for (const [name, values] of Object.entries(comparison.metrics)) {
      rows.push(
        Object.fromEntries(
          header.map((column, i) => [column, i === 0 ? `metric ${name}` : formatValue(values[i - 1])]),
        ),
      );
    }
    printTable(rows, header);
  });
}

function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const equals = value.indexOf("=");
  if (equals <= 0) throw new UsageError(`--param needs key=value, got '${value}'`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

export async function runExternalCommand(
  command: string[],
  flags: RunsFlags & { name?: string; param?: Record<string, string>; dataset?: string },
): Promise<number> {
  if (command.length === 0) throw new UsageError("usage: modelport run [--name N] [--param k=v]... -- <command...>");
  const { runExternal } = await import("../../training/tracking/external-run.js");
  return withTenantContext(flags, async ({ handle, tenantId }) => {
    const result = await runExternal({
      store: await tracking(handle),
      tenantId,
      command,
      ...(flags.name === undefined ? {} : { name: flags.name }),
      ...(flags.param === undefined ? {} : { params: flags.param }),
      ...(flags.dataset === undefined ? {} : { dataset: flags.dataset }),
      // With --json, stdout carries only the final record; the program's output goes to stderr.
      ...(flags.json ? { stdout: process.stderr } : {}),
      onStart: (runId, uri) => process.stderr.write(`modelport: run ${runId} (tracking API ${uri})\n`),
    });
    const { run } = result.detail;
    if (flags.json) printJson(result.detail);
    else
      process.stderr.write(
        `modelport: run ${run.id} ${run.status} (exit ${result.exitCode}); ${Object.keys(result.detail.finalMetrics).length} metrics, ${result.detail.artifacts.length} artifacts\n`,
      );
    // The program's exit code becomes the CLI's, so scripts can chain on it.
    return result.exitCode;
  });
}

function storageOptions(command: Command): Command {
  return command
    .option("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory");
}

/** Registers `modelport runs list|show|compare` and `modelport run -- <command...>`. */
export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("List, show and compare tracked training runs");
  storageOptions(
    runs
      .command("list")
      .description("List runs, newest first")
      .option("--status <status>", "queued | running | succeeded | failed")
      .option("--limit <n>", "at most this many (default 100)", (value) => {
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed < 1 || parsed > 1000) throw new UsageError("--limit must be 1–1000");
        return parsed;
      }),
  ).action((flags) => runRunsList(flags));
  storageOptions(runs.command("show <id>").description("Show a run: params, metrics, artifacts")).action(
    (id: string, flags: RunsFlags) => runRunsShow(id, flags),
  );
  storageOptions(
    runs.command("compare <ids...>").description("Compare runs: params and final metrics side by side"),
  ).action((ids: string[], flags: RunsFlags) => runRunsCompare(ids, flags));

  storageOptions(
    program
      .command("run")
      .description("Run a training program as a tracked run: modelport run [--name N] [--param k=v]... -- <command...>")
      .argument("<command...>", "the program and its arguments, after --")
      .option("--name <name>", "run name")
      .option("--param <key=value>", "a parameter (repeatable); passed as MODELPORT_PARAM_<KEY>", collectParam)
      .option("--dataset <ref>", "dataset name@version the program trains on, for lineage"),
  ).action(async (command: string[], flags) => {
    const code = await runExternalCommand(command, flags);
    if (code !== 0) process.exitCode = code;
  });
}
