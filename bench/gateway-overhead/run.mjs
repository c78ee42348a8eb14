#!/usr/bin/env node
// What auth + rate limits + budgets + metering cost on the gateway path, in one run:
//
//   node bench/gateway-overhead/run.mjs [--rounds 3] [--duration 10] [--connections 32]
//                                       [--rate 300] [--rate-duration 10] [--rate-connections 8]
//                                       [--quick] [--json FILE]
//
// Three Modelport servers, compiled from src/ exactly as `npm start` runs them and configured
// alike, in front of one mock OpenAI upstream (bench/gateway/mock-upstream.mjs):
//   ON   as deployed: tenant-key auth (keyed hash + cache), per-key and per-tenant rate limits
//        and concurrency caps (in-memory limiter, reserve then settle), monthly key and tenant
//        budgets (reserve then settle) and metering (token counting, journaled usage record
//        before the response, batched ledger writes), with high limits so nothing is refused;
//   OFF  the same server started with startServer's internal `withoutCommerceStages` option
//        (src/commerce/benchmark-bypass.ts): no limiter, budgets or metering, and auth reduced
//        to a Map lookup of the presented key. Everything else (routing, request log, access
//        log, metrics) runs in both;
//   NOLOG  ON with the request log and the access log switched off in its config
//        (`requestLog.enabled: false`, `logging.accessLog: false`): ON − NOLOG is what logging
//        costs per request (metrics stay on: they are not switchable).
// A raw-socket load generator in this process drives them in interleaved rounds (order rotated):
// saturation (closed loop) and a fixed rate (paced, latency from when each request was due).
// CPU per request comes from /proc/PID/stat of each server. Prints a Markdown table.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { build } from "esbuild";
import {
  cpuSeconds,
  freePort,
  machineCpuSeconds,
  spawnLogged,
  stop,
  tailOf,
  waitForLog,
} from "../gateway/lib/processes.mjs";
import { median, percentile } from "../gateway/lib/stats.mjs";
import { runLoad } from "./load.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, "../..");

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string", default: "32" },
    rate: { type: "string", default: "300" },
    "rate-duration": { type: "string" },
    "rate-connections": { type: "string", default: "8" },
    warmup: { type: "string" },
    json: { type: "string" },
  },
});
const quick = flags.quick;
const num = (value, fallback) => (value === undefined ? fallback : Number(value));
const settings = {
  rounds: num(flags.rounds, quick ? 1 : 3),
  saturationSeconds: num(flags.duration, quick ? 3 : 10),
  connections: num(flags.connections),
  rate: num(flags.rate),
  rateSeconds: num(flags["rate-duration"], quick ? 3 : 10),
  rateConnections: num(flags["rate-connections"]),
  warmupSeconds: num(flags.warmup, quick ? 1 : 3),
};
const log = (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---- build: src/ → dist-bench/ with the options of scripts/build.mjs (dist/ is left alone) ----
// dist-bench/ sits next to dist/ so `../../package.json` and node_modules resolve the same way.
const distDir = join(repoRoot, "dist-bench");
function sources(directory) {
  const files = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "testing" && entry.name !== "fixtures") files.push(...sources(path));
    } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) files.push(relative(repoRoot, path));
  }
  return files;
}
rmSync(distDir, { recursive: true, force: true });
await build({
  absWorkingDir: repoRoot,
  entryPoints: sources(join(repoRoot, "src")),
  outdir: "dist-bench",
  outbase: "src",
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
});

const workDir = mkdtempSync(join(tmpdir(), "modelport-overhead-"));
const started = [];
const cleanup = async () => {
  await Promise.allSettled(started.map((system) => stop(system.proc)));
  rmSync(distDir, { recursive: true, force: true });
};
process.once("SIGINT", () => cleanup().then(() => process.exit(130)));

async function startMock() {
  const proc = spawnLogged(
    process.execPath,
    [join(repoRoot, "bench/gateway/mock-upstream.mjs"), "--chunks", "5", "--interval-ms", "1"],
    { cwd: workDir, env: process.env, logFile: join(workDir, "mock.log") },
  );
  const [, port] = await waitForLog(proc, /\{"port":(\d+)\}/);
  return { name: "mock", proc, upstreamBaseUrl: `http://127.0.0.1:${port}/v1` };
}

// Limits far above what the machine can do: every stage does its full work, nothing is refused.
const generousLimits = {
  requestsPerMinute: 1_000_000_000,
  tokensPerMinute: 1_000_000_000_000,
  concurrency: 100_000,
  monthlyBudgetMicros: 1_000_000_000_000_000,
};

async function startModelport(variant, upstreamBaseUrl) {
  const port = await freePort();
  const adminToken = `bench-admin-${variant}-0123456789abcdef`;
  const configFile = join(workDir, `modelport-${variant}.json`);
  // bench/gateway's config: the issue's example plus prices, default logging (info, access log).
  writeFileSync(
    configFile,
    JSON.stringify({
      logging: { level: "info", ...(variant === "nolog" ? { accessLog: false } : {}) },
      ...(variant === "nolog" ? { requestLog: { enabled: false } } : {}),
      providers: { mock: { type: "openai", baseUrl: upstreamBaseUrl, apiKey: "sk-bench" } },
      endpoints: {
        chat: {
          kind: "chat",
          targets: [{ provider: "mock", model: "gpt-4o-mini" }],
          pricing: { inputPerMillionTokens: 0.15, outputPerMillionTokens: 0.6 },
        },
      },
    }),
  );
  const proc = spawnLogged(
    process.execPath,
    [
      join(benchDir, "serve-variant.mjs"),
      "--dist",
      distDir,
      "--variant",
      variant,
      "--config",
      configFile,
      "--port",
      String(port),
      "--data-dir",
      join(workDir, `data-${variant}`),
    ],
    {
      cwd: workDir,
      env: { ...process.env, MODELPORT_ADMIN_TOKEN: adminToken, NODE_ENV: "production" },
      logFile: join(workDir, `modelport-${variant}.log`),
    },
  );
  const [, origin] = await waitForLog(proc, /listening on (http:\/\/\S+)/);
  const admin = async (path, body) => {
    const response = await fetch(`${origin}/admin/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  const tenant = await admin("/tenants", { name: "bench", limits: generousLimits });
  const { key } = await admin(`/tenants/${tenant.id}/keys`, { limits: generousLimits });
  const url = new URL(origin);
  return {
    name: variant,
    proc,
    origin,
    host: url.hostname,
    port: Number(url.port),
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "Say hello in one short sentence." }] }),
  };
}

/** One request: proves which stages ran (ON answers with x-ratelimit-* headers, OFF without). */
async function probe(system) {
  const response = await fetch(`${system.origin}${system.path}`, {
    method: "POST",
    headers: system.headers,
    body: system.body,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${system.name}: status ${response.status}`);
  answered[system.name] += 1;
  const limited = response.headers.has("x-ratelimit-limit-requests");
  if (limited !== (system.name !== "off"))
    throw new Error(`${system.name}: x-ratelimit headers ${limited ? "present" : "absent"}; the toggle did not apply`);
}

/** 2xx answers per variant over the whole run (probe, warm-up, measurements): the ledger must hold exactly as many for ON. */
const answered = { on: 0, off: 0, nolog: 0 };
const variants = ["on", "off", "nolog"];

async function load(system, options) {
  const result = await runLoad({ ...system, ...options });
  answered[system.name] += result.ok;
  return result;
}

async function measure(system, mock, options) {
  const before = { gateway: cpuSeconds(system.proc.pid), mock: cpuSeconds(mock.proc.pid) };
  const self = process.cpuUsage();
  const machine = machineCpuSeconds();
  const result = await load(system, options);
  const selfUsed = process.cpuUsage(self);
  const machineBusy = machineCpuSeconds().busy - machine.busy;
  const cpu = {
    gateway: cpuSeconds(system.proc.pid) - before.gateway,
    mock: cpuSeconds(mock.proc.pid) - before.mock,
    loadgen: (selfUsed.user + selfUsed.system) / 1e6,
  };
  cpu.other = Math.max(0, machineBusy - cpu.gateway - cpu.mock - cpu.loadgen);
  return {
    rps: result.ok / result.elapsedSeconds,
    ok: result.ok,
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latencies ? percentile(result.latencies, 50) : undefined,
    p99: result.latencies ? percentile(result.latencies, 99) : undefined,
    gatewayCpuUs: (cpu.gateway / result.ok) * 1e6,
    otherCores: cpu.other / result.elapsedSeconds,
  };
}

let exitCode = 0;
try {
  const mock = await startMock();
  started.push(mock);
  const systems = [];
  for (const variant of variants) {
    const system = await startModelport(variant, mock.upstreamBaseUrl);
    started.push(system);
    systems.push(system);
    await probe(system);
  }
  log(`mock pid ${mock.proc.pid}; ${systems.map((system) => `${system.name} pid ${system.proc.pid}`).join("; ")}`);
  for (const system of systems)
    await load(system, {
      connections: settings.connections,
      durationMs: settings.warmupSeconds * 1000,
    });
  log("warmed up");

  const results = { saturation: { on: [], off: [], nolog: [] }, rate: { on: [], off: [], nolog: [] } };
  // The order rotates every round, so no variant always runs first (or right after the same one).
  const inOrder = (round) => systems.map((_system, index) => systems[(index + round) % systems.length]);
  for (let round = 0; round < settings.rounds; round++) {
    for (const system of inOrder(round)) {
      const result = await measure(system, mock, {
        connections: settings.connections,
        durationMs: settings.saturationSeconds * 1000,
        collectLatencies: true,
      });
      results.saturation[system.name].push(result);
      log(
        `saturation r${round + 1} ${system.name.padEnd(5)} ${Math.round(result.rps)} req/s, gateway ${Math.round(result.gatewayCpuUs)} µs CPU/req` +
          (result.non2xx || result.errors ? ` (non-2xx ${result.non2xx}, errors ${result.errors})` : ""),
      );
    }
    for (const system of inOrder(round + 1)) {
      const result = await measure(system, mock, {
        connections: settings.rateConnections,
        durationMs: settings.rateSeconds * 1000,
        rate: settings.rate,
        collectLatencies: true,
      });
      results.rate[system.name].push(result);
      log(
        `rate ${settings.rate}/s r${round + 1} ${system.name.padEnd(5)} achieved ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms`,
      );
    }
  }

  // Stop both servers (a drain flushes the ledger), then count what each one billed.
  for (const system of systems) await stop(system.proc);
  const billed = {};
  for (const system of systems) {
    const database = new BetterSqlite3(join(workDir, `data-${system.name}`, "modelport.db"), { readonly: true });
    billed[system.name] = database.prepare("select count(*) as n from usage_records").get().n;
    database.close();
  }
  log(
    `ledger: ON answered ${answered.on}, billed ${billed.on}; OFF answered ${answered.off}, billed ${billed.off}; NOLOG answered ${answered.nolog}, billed ${billed.nolog}`,
  );
  if (billed.on !== answered.on || billed.off !== 0 || billed.nolog !== answered.nolog)
    throw new Error("the ledger does not match the answered requests: the ON/OFF toggle or metering is broken");

  const med = (phase, variant, field) => median(results[phase][variant].map((result) => result[field]));
  const row = (label, phase, field, digits, unit = "") => {
    const on = med(phase, "on", field);
    const off = med(phase, "off", field);
    const nolog = med(phase, "nolog", field);
    return `| ${label} | ${on.toFixed(digits)}${unit} | ${off.toFixed(digits)}${unit} | ${(on - off).toFixed(digits)}${unit} | ${(on / off).toFixed(2)} | ${nolog.toFixed(digits)}${unit} | ${(on - nolog).toFixed(digits)}${unit} | ${(on / nolog).toFixed(2)} |`;
  };
  const lines = [
    `Settings: ${settings.rounds} interleaved rounds, medians; saturation ${settings.saturationSeconds} s with ${settings.connections} connections (closed loop); fixed rate ${settings.rate} req/s for ${settings.rateSeconds} s on ${settings.rateConnections} connections (latency from when each request was due).`,
    "",
    "| | ON (auth + limits + budgets + metering) | OFF (no commerce stages) | ON − OFF | ON / OFF | NOLOG (ON without request log and access log) | ON − NOLOG | ON / NOLOG |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("req/s at saturation", "saturation", "rps", 0),
    row("latency p50 at saturation", "saturation", "p50", 2, " ms"),
    row("latency p99 at saturation", "saturation", "p99", 2, " ms"),
    row("gateway CPU per request at saturation", "saturation", "gatewayCpuUs", 0, " µs"),
    row(`latency p50 at ${settings.rate} req/s`, "rate", "p50", 3, " ms"),
    row(`latency p99 at ${settings.rate} req/s`, "rate", "p99", 3, " ms"),
    row(`gateway CPU per request at ${settings.rate} req/s`, "rate", "gatewayCpuUs", 0, " µs"),
    "",
    `Ledger check: ON answered ${answered.on} requests and billed exactly ${billed.on}; NOLOG ${answered.nolog} and ${billed.nolog}; OFF billed ${billed.off}.`,
    "",
    `Other processes on the machine during the runs (median, cores): ${variants
      .map(
        (variant) =>
          `${variant} saturation ${med("saturation", variant, "otherCores").toFixed(2)}, fixed rate ${med("rate", variant, "otherCores").toFixed(2)}`,
      )
      .join("; ")}.`,
  ];
  console.log(`\n${lines.join("\n")}\n`);
  if (flags.json) writeFileSync(flags.json, `${JSON.stringify({ settings, results }, null, 2)}\n`);
} catch (error) {
  console.error(`benchmark failed: ${error.stack ?? error}`);
  for (const system of started) console.error(`--- ${system.name} log tail ---\n${tailOf(system.proc.logFile, 10)}`);
  exitCode = 1;
} finally {
  await cleanup();
  if (exitCode === 0) rmSync(workDir, { recursive: true, force: true });
  process.exitCode = exitCode;
}
