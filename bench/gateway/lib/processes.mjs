// Child processes for the benchmark: each server (mock, Modelport, Portkey) runs in its own
// process with its output in a log file (never a pipe the runner must drain while it generates
// load), and the runner reads its CPU time and memory from /proc.
import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";

const clockTicksPerSecond = 100; // USER_HZ; `getconf CLK_TCK` is 100 on every Linux we run on

/** Spawns `command args` with stdout and stderr appended to logFile. */
export function spawnLogged(command, args, { cwd, env, logFile }) {
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", fd, fd] });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid, logFile, exited };
}

export function tailOf(file, lines = 20) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Polls the log file until `pattern` matches; fails early if the process exits. */
export async function waitForLog(proc, pattern, timeoutMs = 60_000) {
  let exit;
  proc.exited.then((value) => {
    exit = value;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = readFileSync(proc.logFile, "utf8").match(pattern);
    if (match) return match;
    if (exit) throw new Error(`process exited (${JSON.stringify(exit)}) before ready:\n${tailOf(proc.logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${tailOf(proc.logFile)}`);
}

/** Polls until any HTTP response comes back from `url` (the status does not matter). */
export async function waitForHttp(proc, url, timeoutMs = 60_000) {
  let exit;
  proc.exited.then((value) => {
    exit = value;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`process exited (${JSON.stringify(exit)}) before ready:\n${tailOf(proc.logFile)}`);
    const ok = await new Promise((resolve) => {
      const req = request(url, { method: "GET", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(true));
      });
      req.on("error", () => resolve(false));
      req.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no HTTP answer from ${url} within ${timeoutMs} ms:\n${tailOf(proc.logFile)}`);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Stops a child we started, by its pid: SIGTERM, then SIGKILL after a grace period. */
export async function stop(proc, graceMs = 5_000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** User+system CPU seconds a process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at state = field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
export function machineCpuSeconds() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / clockTicksPerSecond, total: (busy + idle + iowait) / clockTicksPerSecond };
}

/** VmRSS (now) and VmHWM (peak) of a process, in MB (10^6 bytes, the stricter reading of a goal in MB). */
export function memoryMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const read = (name) =>
    (Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"))?.[1] ?? Number.NaN) * 1024) / 1e6;
  return { rss: read("VmRSS"), peak: read("VmHWM") };
}
