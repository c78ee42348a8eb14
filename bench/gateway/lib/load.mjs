// Load phases driven by autocannon in the runner process. Latencies are collected from
// autocannon's per-response event as float milliseconds (its own histogram keeps integer ms,
// too coarse for sub-millisecond differences). CPU seconds of every process involved are read
// before and after, so the report can say where a saturated run's CPU went.
import autocannon from "autocannon";
import { cpuSeconds, machineCpuSeconds } from "./processes.mjs";

function runAutocannon(options, onLatency) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    if (onLatency) instance.on("response", (_client, statusCode, _bytes, ms) => statusCode < 300 && onLatency(ms));
  });
}

function requestOptions(system, stream) {
  return {
    url: `${system.origin}${system.path}`,
    method: "POST",
    headers: system.headers,
    body: stream ? system.streamBody : system.body,
    pipelining: 1,
  };
}

/**
 * One autocannon run against `system`. `pids` maps role → pid (gateway, mock) for CPU
 * accounting; the runner's own CPU (autocannon) comes from process.cpuUsage().
 */
export async function load(system, { connections, durationSeconds, overallRate, collectLatencies, pids }) {
  const latencies = collectLatencies ? [] : undefined;
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid)]));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpuSeconds();
  const startedAt = performance.now();
  const result = await runAutocannon(
    { ...requestOptions(system, false), connections, duration: durationSeconds, overallRate },
    latencies ? (ms) => latencies.push(ms) : undefined,
  );
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const selfAfter = process.cpuUsage(selfBefore);
  const machineAfter = machineCpuSeconds();
  const cpu = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid) - cpuBefore[role]]));
  cpu.loadgen = (selfAfter.user + selfAfter.system) / 1e6;
  const machineBusy = machineAfter.busy - machineBefore.busy;
  const ours = Object.values(cpu).reduce((sum, value) => sum + value, 0);
  cpu.other = Math.max(0, machineBusy - ours);

  const ok = result["2xx"];
  return {
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    elapsedSeconds,
    rps: ok / result.duration,
    latencies,
    cpu,
    machineCores: machineBusy / elapsedSeconds,
  };
}
