/**
 * CNN / MLP training throughput: TensorFlow.js on the wasm backend (with Modelport's training
 * kernels) against PyTorch on CPU, measured in the same run.
 *
 *   node --import tsx bench/cnn-training/run.ts [--rounds 3] [--steps 20] [--warmup 4]
 *        [--batch 64] [--models cnn,mlp] [--threads 1,2] [--python /usr/bin/python3]
 *        [--no-ablation] [--json out.json]
 *
 * Each round runs every engine once, interleaved (order reversed every other round), so a busy
 * neighbour slows all of them alike. Engines come in pairs with equal thread counts: tfjs-wasm
 * with N XNNPACK threads (N > 1 loads the multi-threaded build, `MODELPORT_TFJS_WASM_THREADS`,
 * in a child process because the build is chosen once per process) against torch with N threads
 * (ATen, OpenMP and OpenBLAS all capped at N). Reported per engine: the median over rounds of the
 * per-round median step time, as samples/s of wall time and, for 1 thread, of process CPU time
 * (the stable figure on a shared box; with N threads CPU time also counts waiting workers).
 * The "ablation" row runs tfjs with only the missing Conv2DBackpropFilter added (tfjs's own slow
 * wasm Conv2DBackpropInput / MaxPoolGrad / transposed BatchMatMul / leading-axis Sum / copying
 * Identity and Cast kept), in a child process because kernel registrations are process-wide.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { ensureWasmBackend, wasmBackendInfo } from "../../src/runtimes/tfjs/wasm-backend.js";
import { registerWasmTrainingKernels } from "../../src/training/tfjs-kernels/index.js";
import { profileKernels } from "./kernel-profile.js";
import { type BenchModel, buildModel, syntheticPool } from "./models.js";

const here = dirname(fileURLToPath(import.meta.url));

interface StepTimes {
  stepMs: number[];
  stepCpuMs: number[];
  firstLoss: number;
  lastLoss: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function trainTfjs(kind: BenchModel, batch: number, steps: number, warmup: number): Promise<StepTimes> {
  const model = buildModel(kind, 1);
  const { images, labels } = syntheticPool(batch, 1);
  const times: StepTimes = { stepMs: [], stepCpuMs: [], firstLoss: Number.NaN, lastLoss: Number.NaN };
  try {
    for (let step = 0; step < warmup + steps; step++) {
      const offset = (step % 8) * batch;
      const [x, y] = tf.tidy(() => [
        tf.slice(images, [offset, 0, 0, 0], [batch, 28, 28, 1]),
        tf.slice(labels, [offset, 0], [batch, 10]),
      ]);
      const wall = performance.now();
      const cpu = process.cpuUsage();
      // trainOnBatch resolves after reading the loss back, so the step's work is finished.
      const loss = Number(await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor));
      const used = process.cpuUsage(cpu);
      const elapsed = performance.now() - wall;
      tf.dispose([x as tf.Tensor, y as tf.Tensor]);
      if (step < warmup) continue;
      times.stepMs.push(elapsed);
      times.stepCpuMs.push((used.user + used.system) / 1000);
      if (Number.isNaN(times.firstLoss)) times.firstLoss = loss;
      times.lastLoss = loss;
    }
  } finally {
    model.dispose();
    tf.dispose([images, labels]);
  }
  return times;
}

function trainTorch(
  python: string,
  kind: BenchModel,
  batch: number,
  steps: number,
  warmup: number,
  threads: number,
): StepTimes & { version: string } {
  const options = JSON.stringify({ model: kind, batch, steps, warmup, threads, seed: 1 });
  // torch.set_num_threads() covers ATen's OpenMP pool only: Debian's torch calls OpenBLAS (the
  // dense layers' GEMMs), whose own pool starts one busy-waiting thread per core. Without these
  // variables "1 thread" used ~2 cores of CPU time (60 ms CPU for a 30 ms step).
  const threadEnv = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const result = spawnSync(python, [join(here, "torch_cnn.py"), options], {
    encoding: "utf8",
    env: { ...process.env, ...threadEnv },
  });
  if (result.status !== 0)
    throw new Error(`${python} torch_cnn.py failed (${result.status}): ${result.stderr || result.error?.message}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
}

/**
 * The tfjs run in a child process: with only Conv2DBackpropFilter added (ablation), or with the
 * multi-threaded wasm build.
 */
function trainTfjsChild(
  kind: BenchModel,
  batch: number,
  steps: number,
  warmup: number,
  options: { ablation: boolean; threads: number },
): StepTimes {
  const result = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--child",
      JSON.stringify({ kind, batch, steps, warmup, ablation: options.ablation }),
    ],
    {
      encoding: "utf8",
      maxBuffer: 16 << 20,
      env: { ...process.env, MODELPORT_TFJS_WASM_THREADS: String(options.threads) },
    },
  );
  if (result.status !== 0) throw new Error(`tfjs child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      steps: { type: "string", default: "20" },
      warmup: { type: "string", default: "4" },
      batch: { type: "string", default: "64" },
      models: { type: "string", default: "cnn,mlp" },
      python: { type: "string", default: "/usr/bin/python3" },
      threads: { type: "string", default: "1,2" },
      "no-ablation": { type: "boolean", default: false },
      child: { type: "string" },
      profile: { type: "boolean", default: true },
      json: { type: "string" },
    },
  });
  // The in-process engine is "tfjs-1t"; children get their thread count explicitly.
  if (!values.child) delete process.env.MODELPORT_TFJS_WASM_THREADS;
  await ensureWasmBackend();

  if (values.child) {
    const { kind, batch, steps, warmup, ablation } = JSON.parse(values.child);
    registerWasmTrainingKernels({ replaceSlowKernels: !ablation });
    process.stdout.write(`${JSON.stringify(await trainTfjs(kind, batch, steps, warmup))}\n`);
    return;
  }

  const registered = registerWasmTrainingKernels();
  const rounds = Number(values.rounds);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const batch = Number(values.batch);
  const models = (values.models ?? "cnn,mlp").split(",") as BenchModel[];
  const python = values.python ?? "/usr/bin/python3";
  const info = await wasmBackendInfo();
  console.log(
    `tfjs ${tf.version_core} wasm (simd ${info.simd}, threads ${info.threads}); kernels added ${registered.added.join(", ")}; replaced ${registered.replaced.join(", ")}`,
  );
  console.log(
    `${cpus().length} × ${cpus()[0]?.model ?? "?"}, node ${process.version}; batch ${batch}, ${steps} steps after ${warmup} warm-up, ${rounds} rounds`,
  );

  // "tfjs-1t", "torch-1t", "tfjs-2t", ...; the in-process tfjs runs single-threaded.
  const threadCounts = (values.threads ?? "1,2").split(",").map(Number);
  const engines = threadCounts.flatMap((threads) => [`tfjs-${threads}t`, `torch-${threads}t`]);
  const threadsOf = (engine: string) => Number(/-(\d+)t$/.exec(engine)?.[1] ?? 1);
  const results = new Map<string, { wall: number[]; cpu: number[]; losses: [number, number][]; version?: string }>();
  for (let round = 0; round < rounds; round++) {
    for (const kind of models) {
      const order = round % 2 ? [...engines].reverse() : engines;
      // The ablation is slow; one round of it is enough to show the gap.
      const withAblation =
        !values["no-ablation"] && round === 0 && kind === "cnn" ? [...order, "tfjs-ablation-1t"] : order;
      for (const engine of withAblation) {
        const threads = threadsOf(engine);
        let times: StepTimes & { version?: string };
        if (engine === "tfjs-ablation-1t")
          times = trainTfjsChild(kind, batch, Math.min(steps, 5), 1, { ablation: true, threads: 1 });
        else if (engine === "tfjs-1t") times = await trainTfjs(kind, batch, steps, warmup);
        else if (engine.startsWith("tfjs-"))
          times = trainTfjsChild(kind, batch, steps, warmup, { ablation: false, threads });
        else times = trainTorch(python, kind, batch, steps, warmup, threads);
        const key = `${kind}|${engine}`;
        const entry = results.get(key) ?? { wall: [], cpu: [], losses: [] };
        entry.wall.push(median(times.stepMs));
        entry.cpu.push(median(times.stepCpuMs));
        entry.losses.push([times.firstLoss, times.lastLoss]);
        if (times.version) entry.version = times.version;
        results.set(key, entry);
        console.log(
          `  round ${round + 1} ${kind} ${engine}: ${median(times.stepMs).toFixed(1)} ms/step wall, ${median(times.stepCpuMs).toFixed(1)} ms cpu`,
        );
      }
    }
  }

  const rows: Record<string, string | number>[] = [];
  for (const kind of models) {
    for (const engine of [...engines, "tfjs-ablation-1t"]) {
      const entry = results.get(`${kind}|${engine}`);
      if (!entry) continue;
      const threads = threadsOf(engine);
      // The reference: torch with the same number of threads.
      const reference = results.get(`${kind}|torch-${threads}t`);
      const wallSps = (batch * 1000) / median(entry.wall);
      const cpuSps = (batch * 1000) / median(entry.cpu);
      const refWall = reference ? (batch * 1000) / median(reference.wall) : Number.NaN;
      const refCpu = reference ? (batch * 1000) / median(reference.cpu) : Number.NaN;
      rows.push({
        model: kind,
        engine: engine + (entry.version ? ` ${entry.version}` : ""),
        "ms/step": Number(median(entry.wall).toFixed(1)),
        "samples/s (wall)": Math.round(wallSps),
        "samples/s (cpu)": threads === 1 ? Math.round(cpuSps) : "n/a",
        "vs torch, same threads (wall)": Number((wallSps / refWall).toFixed(2)),
        "vs torch-1t (cpu)": threads === 1 ? Number((cpuSps / refCpu).toFixed(2)) : "n/a",
        loss: `${entry.losses[0]?.[0].toFixed(3)} → ${entry.losses[0]?.[1].toFixed(3)}`,
      });
    }
  }
  console.table(rows);

  if (values.profile && models.includes("cnn")) {
    // Where a tfjs CNN step's CPU time goes, per kernel (3 steps after 2 warm-up steps).
    const model = buildModel("cnn", 1);
    const { images, labels } = syntheticPool(batch, 1);
    const [x, y] = tf.tidy(() => [tf.slice(images, 0, batch), tf.slice(labels, 0, batch)]);
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor);
    const profile = await profileKernels("wasm", async () => {
      for (let i = 0; i < 3; i++) await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor);
    });
    const kernelMs = profile.kernels.reduce((sum, k) => sum + k.cpuMs, 0);
    console.log(
      `tfjs CNN step: ${(profile.totalCpuMs / 3).toFixed(1)} ms CPU, of which kernels ${(kernelMs / 3).toFixed(1)} ms (rest: tfjs-layers/engine JavaScript)`,
    );
    console.table(
      profile.kernels
        .slice(0, 10)
        .map((k) => ({ kernel: k.kernel, "cpu ms/step": Number((k.cpuMs / 3).toFixed(2)), "calls/step": k.calls / 3 })),
    );
    model.dispose();
    tf.dispose([images, labels, x as tf.Tensor, y as tf.Tensor]);
  }

  if (values.json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      values.json,
      `${JSON.stringify({ date: new Date().toISOString(), batch, steps, rounds, rows }, null, 2)}\n`,
    );
  }
}

await main();
