import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { ModelportError } from "../../core/errors.js";
import { readGitCommit } from "./git-commit.js";
import { startTrackingServer } from "./tracking-server.js";
import type { RunDetail, TrackingStore } from "./tracking-store.js";

export interface ExternalRunOptions {
  store: TrackingStore;
  tenantId: string;
  /** The program and its arguments (no shell). */
  command: readonly string[];
  name?: string;
  /** Passed to the program as MODELPORT_PARAM_<KEY> (key upper-cased, non-alphanumerics → _) and recorded. */
  params?: Record<string, string>;
  dataset?: string | null;
  cwd?: string;
  /** Extra environment on top of process.env. */
  env?: Record<string, string>;
  /** Where the program's output is echoed (default: this process's stdout/stderr). */
  stdout?: Writable;
  stderr?: Writable;
  /** Called once the run exists (e.g. to print its id). */
  onStart?: (runId: string, trackingUri: string) => void;
}

export interface ExternalRunResult {
  exitCode: number;
  signal: NodeJS.Signals | null;
  detail: RunDetail;
  /** JSON lines that looked like logging but could not be recorded (bad name, missing file, …). */
  rejected: string[];
}

export function paramEnvName(key: string): string {
  return `MODELPORT_PARAM_${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Runs a training program as a tracked run: it gets MODELPORT_RUN_ID, MODELPORT_TRACKING_URI
 * (a local HTTP API, see tracking-server.ts) and its params as environment variables, and may
 * also log by printing JSON lines such as `{"modelport":"metric","name":"loss","value":0.3,"step":1}`,
 * `{"modelport":"param","name":"lr","value":0.01}` or `{"modelport":"artifact","path":"model.onnx"}`.
 * Every output line is echoed. The exit status decides succeeded/failed.
 */
export async function runExternal(options: ExternalRunOptions): Promise<ExternalRunResult> {
  const [program, ...args] = options.command;
  if (program === undefined || program === "")
    throw new ModelportError("MP_INVALID_REQUEST", "modelport run needs a command after --", { param: "command" });
  const { store, tenantId } = options;
  const cwd = resolve(options.cwd ?? process.cwd());
  const params = options.params ?? {};
  const run = await store.createRun(tenantId, {
    name: options.name ?? program.split("/").pop() ?? program,
    kind: "external",
    status: "running",
    params,
    dataset: options.dataset ?? null,
    command: options.command.join(" "),
    gitCommit: await readGitCommit(cwd),
  });
  const server = await startTrackingServer({ store, tenantId, runIds: [run.id], baseDir: cwd });
  options.onStart?.(run.id, server.url);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const rejected: string[] = [];
  // Log calls from stdout run in order, one at a time, so steps without a number count up in order.
  let pending: Promise<void> = Promise.resolve();
  const record = (line: string) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null || !("modelport" in message)) return;
    const m = message as Record<string, unknown>;
    pending = pending.then(async () => {
      try {
        if (m.modelport === "metric") {
          await store.logMetric(tenantId, run.id, {
            name: m.name as string,
            value: m.value as number,
            ...(m.step === undefined ? {} : { step: m.step as number }),
          });
        } else if (m.modelport === "param") {
          await store.logParams(tenantId, run.id, { [String(m.name)]: m.value });
        } else if (m.modelport === "artifact") {
          if (typeof m.path !== "string") throw new Error("artifact without a path");
          await store.logArtifact(tenantId, run.id, { path: m.path, baseDir: cwd });
        } else {
          throw new Error(`unknown kind ${JSON.stringify(m.modelport)}`);
        }
      } catch (error) {
        rejected.push(line);
        stderr.write(`modelport: ignored log line (${(error as Error).message}): ${line}\n`);
      }
    });
  };

  const env: Record<string, string | undefined> = {
    ...process.env,
    ...options.env,
    MODELPORT_RUN_ID: run.id,
    MODELPORT_TRACKING_URI: server.url,
  };
  for (const [key, value] of Object.entries(params)) env[paramEnvName(key)] = value;

  let exitCode: number;
  let signal: NodeJS.Signals | null = null;
  let failure: string | null = null;
  try {
    const child = spawn(program, args, { cwd, env, stdio: ["inherit", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      stdout.write(`${line}\n`);
      record(line.trim());
    });
    child.stderr.on("data", (chunk: Buffer) => stderr.write(chunk));
    const closed = new Promise<void>((done) => lines.once("close", () => done()));
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      child.once("error", (error) => done({ code: null, signal: null, error }));
      child.once("close", (code, sig) => done({ code, signal: sig }));
    });
    if (outcome.error === undefined) await closed;
    signal = outcome.signal;
    if (outcome.error !== undefined) {
      exitCode = 127;
      failure = `could not start ${program}: ${outcome.error.message}`;
    } else {
      exitCode = outcome.code ?? 128;
      if (outcome.signal !== null) failure = `killed by ${outcome.signal}`;
      else if (exitCode !== 0) failure = `exited with code ${exitCode}`;
    }
    await pending;
  } finally {
    await server.close();
  }
  await store.finishRun(tenantId, run.id, {
    status: failure === null ? "succeeded" : "failed",
    error: failure,
    exitCode,
  });
  return { exitCode, signal, detail: await store.showRun(tenantId, run.id), rejected };
}
