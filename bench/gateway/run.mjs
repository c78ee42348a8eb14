#!/usr/bin/env node
// The gateway benchmark, one command from the repository root:
//
//   node bench/gateway/run.mjs            full run (~4-5 min), updates BENCHMARKS.md
//   node bench/gateway/run.mjs --quick    smoke run (~1 min), prints only
//
// Starts a mock OpenAI upstream, Modelport and Portkey's gateway as separate processes on
// loopback, drives them with autocannon from this process, probes streams with a raw HTTP client,
// and reports medians over interleaved rounds: saturation req/s, added latency at a fixed rate,
// added time-to-first-token, RSS. See BENCHMARKS.md for the figures and how to read them.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, "../..");

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    "rate-duration": { type: "string" },
    rate: { type: "string", default: "1000" },
    "rate-connections": { type: "string", default: "4" },
    connections: { type: "string", default: "50" },
    streams: { type: "string" },
    calls: { type: "string" },
    warmup: { type: "string" },
    "no-portkey": { type: "boolean", default: false },
    write: { type: "boolean" },
    json: { type: "string" },
    "from-json": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  console.log(`usage: node bench/gateway/run.mjs [--quick] [--rounds N] [--duration S] [--rate-duration S]
  [--rate R] [--rate-connections N] [--connections N] [--streams N] [--calls N] [--warmup S]
  [--no-portkey] [--write | --no-write] [--json FILE] [--from-json FILE]
Full run by default (writes BENCHMARKS.md); --quick is a short smoke run that does not write;
--json saves the results, --from-json re-renders BENCHMARKS.md from them without running.`);
  process.exit(0);
}
const quick = flags.quick;
const num = (value, fallback) => (value === undefined ? fallback : Number(value));
const settings = {
  rounds: num(flags.rounds, quick ? 1 : 3),
  saturationSeconds: num(flags.duration, quick ? 3 : 10),
  rateSeconds: num(flags["rate-duration"], quick ? 3 : 10),
  rate: num(flags.rate),
  rateConnections: num(flags["rate-connections"]),
  connections: num(flags.connections),
  streams: num(flags.streams, quick ? 100 : 300),
  calls: num(flags.calls, quick ? 100 : 300),
  warmupSeconds: num(flags.warmup, quick ? 1 : 3),
  mockChunks: 5,
  mockIntervalMs: 1,
};
const writeReport = flags.write ?? !quick;

// Re-render BENCHMARKS.md from a saved --json result (no load is run).
if (flags["from-json"]) {
  const { readFileSync } = await import("node:fs");
  const { judge, renderMarkdown, updateBenchmarksFile } = await import("./lib/report.mjs");
  const { summary } = JSON.parse(readFileSync(flags["from-json"], "utf8"));
  summary.goals = judge(summary);
  updateBenchmarksFile(join(repoRoot, "BENCHMARKS.md"), renderMarkdown(summary));
  console.log("rewrote BENCHMARKS.md from", flags["from-json"]);
  process.exit(0);
}

// Bench dependencies live in bench/gateway only (Portkey pins its own hono); install on first use.
if (
  !existsSync(join(benchDir, "node_modules/autocannon")) ||
  !existsSync(join(benchDir, "node_modules/@portkey-ai/gateway"))
) {
  console.log("installing bench dependencies in bench/gateway ...");
  execFileSync("npm", ["install", "--prefix", benchDir, "--no-audit", "--no-fund"], { stdio: "inherit" });
}

// Modelport runs compiled, as `npm start` runs it.
execFileSync(process.execPath, [join(repoRoot, "scripts/build.mjs")], { stdio: "inherit" });

const { load } = await import("./lib/load.mjs");
const { probeCalls, probeStreams } = await import("./lib/probe.mjs");
const { machineCpuSeconds, memoryMB, stop, tailOf } = await import("./lib/processes.mjs");
const { startMock, startModelport, startPortkey } = await import("./lib/systems.mjs");
const { summarize, renderTable, renderMarkdown, updateBenchmarksFile } = await import("./lib/report.mjs");

const workDir = mkdtempSync(join(tmpdir(), "modelport-bench-"));
const started = [];
const cleanup = async () => {
  await Promise.allSettled(started.map((system) => stop(system.proc)));
};
process.once("SIGINT", () => cleanup().then(() => process.exit(130)));

const log = (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

// How busy the machine is before we start: other work on the same cores skews every figure.
async function busyCores(seconds) {
  const before = machineCpuSeconds();
  await new Promise((resolveWait) => setTimeout(resolveWait, seconds * 1000));
  const after = machineCpuSeconds();
  return (after.busy - before.busy) / seconds;
}

try {
  log(`work dir ${workDir}`);
  const busyBefore = await busyCores(2);
  log(
    `machine busy before the run: ${busyBefore.toFixed(2)} cores${busyBefore > 0.3 ? " (not idle: expect noisy figures)" : ""}`,
  );
  const mock = await startMock({ benchDir, workDir, chunks: settings.mockChunks, intervalMs: settings.mockIntervalMs });
  started.push(mock);
  const modelport = await startModelport({ repoRoot, workDir, upstreamBaseUrl: mock.upstreamBaseUrl });
  started.push(modelport);
  let portkey;
  let portkeyError;
  if (!flags["no-portkey"]) {
    try {
      portkey = await startPortkey({ benchDir, workDir, upstreamBaseUrl: mock.upstreamBaseUrl });
      started.push(portkey);
      await probeCalls(portkey, 3);
      await probeStreams(portkey, 3);
    } catch (error) {
      portkeyError = error.message;
      log(`Portkey could not be benchmarked: ${portkeyError}`);
      if (portkey) await stop(portkey.proc);
      portkey = undefined;
    }
  } else portkeyError = "skipped (--no-portkey)";
  const systems = [mock, modelport, portkey].filter(Boolean);
  log(`systems: ${systems.map((s) => `${s.name} pid ${s.proc.pid} ${s.origin}`).join(", ")}`);

  const idleMemory = Object.fromEntries(systems.map((s) => [s.name, memoryMB(s.proc.pid)]));
  const pidsFor = (system) =>
    system === mock ? { mock: mock.proc.pid } : { gateway: system.proc.pid, mock: mock.proc.pid };
  // Rotate the order each round so no system always runs right after the same neighbour.
  const inOrder = (round) => systems.map((_, i) => systems[(i + round) % systems.length]);

  for (const system of systems) {
    await probeCalls(system, 3);
    await probeStreams(system, 3);
    await load(system, {
      connections: settings.connections,
      durationSeconds: settings.warmupSeconds,
      pids: pidsFor(system),
    });
  }
  log("warmed up");

  const rounds = { saturation: {}, rate: {}, streams: {}, calls: {} };
  for (const system of systems) for (const phase of Object.keys(rounds)) rounds[phase][system.name] = [];

  for (let round = 0; round < settings.rounds; round++) {
    for (const system of inOrder(round)) {
      const result = await load(system, {
        connections: settings.connections,
        durationSeconds: settings.saturationSeconds,
        pids: pidsFor(system),
      });
      rounds.saturation[system.name].push(result);
      log(
        `saturation r${round + 1} ${system.name.padEnd(9)} ${Math.round(result.rps)} req/s` +
          (result.non2xx || result.errors ? ` (non-2xx ${result.non2xx}, errors ${result.errors})` : ""),
      );
    }
  }
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of inOrder(round)) {
      const result = await load(system, {
        connections: settings.rateConnections,
        durationSeconds: settings.rateSeconds,
        overallRate: settings.rate,
        collectLatencies: true,
        pids: pidsFor(system),
      });
      rounds.rate[system.name].push(result);
      log(`rate ${settings.rate}/s r${round + 1} ${system.name.padEnd(9)} achieved ${Math.round(result.rps)} req/s`);
    }
  }
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of inOrder(round)) {
      rounds.streams[system.name].push(await probeStreams(system, settings.streams));
      rounds.calls[system.name].push(await probeCalls(system, settings.calls));
    }
    log(`stream and call probes r${round + 1} done`);
  }

  const memory = Object.fromEntries(
    systems.map((s) => [s.name, { idle: idleMemory[s.name], ...memoryMB(s.proc.pid) }]),
  );
  const summary = summarize({
    settings,
    rounds,
    memory,
    systems: systems.map((s) => s.name),
    portkeyError,
    busyBefore,
  });
  console.log(`\n${renderTable(summary)}\n`);

  if (flags.json) writeFileSync(flags.json, `${JSON.stringify({ settings, summary }, null, 2)}\n`);
  if (writeReport) {
    const file = join(repoRoot, "BENCHMARKS.md");
    updateBenchmarksFile(file, renderMarkdown(summary, { repoRoot, benchDir }));
    log(`wrote ${file}`);
  }
} catch (error) {
  console.error(`benchmark failed: ${error.stack ?? error}`);
  for (const system of started) console.error(`--- ${system.name} log tail ---\n${tailOf(system.proc.logFile, 10)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  if (process.exitCode !== 1) rmSync(workDir, { recursive: true, force: true });
}
