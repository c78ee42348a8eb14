import * as tf from "@tensorflow/tfjs-core";
import { getKernelsForBackend, type KernelConfig, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";
import { ensureWasmBackend } from "../../src/runtimes/tfjs/wasm-backend.js";
import { registerWasmTrainingKernels } from "../../src/training/tfjs-kernels/index.js";
import { buildModel, syntheticPool } from "./models.js";
await ensureWasmBackend();
registerWasmTrainingKernels();
const batch = Number(process.argv[2] ?? 64);
const model = buildModel("cnn", 1);
const { images, labels } = syntheticPool(batch, 1);
const [x, y] = tf.tidy(() => [tf.slice(images, 0, batch), tf.slice(labels, 0, batch)]);
for (let i = 0; i < 3; i++) await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor);
const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
const costs = new Map<string, number[]>();
let depth = 0;
const originals = getKernelsForBackend("wasm");
for (const config of originals) {
  unregisterKernel(config.kernelName, "wasm");
  registerKernel({ ...config, kernelFunc: (args) => {
    if (depth > 0) return config.kernelFunc(args);
    depth++; const s = cpu();
    try { return config.kernelFunc(args); } finally {
      depth--;
      const ins = Object.values(args.inputs as Record<string, tf.TensorInfo>).map((t) => t?.shape?.join("x")).join(",");
      const key = `${config.kernelName}(${ins})`;
      const list = costs.get(key) ?? []; list.push((cpu() - s) / 1000); costs.set(key, list);
    } } });
}
const steps = 8;
const s0 = cpu();
for (let i = 0; i < steps; i++) await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor);
const total = (cpu() - s0) / 1000 / steps;
const rows = [...costs].map(([k, v]) => ({ k, perStep: v.reduce((a, b) => a + b, 0) / steps, calls: v.length / steps })).sort((a, b) => b.perStep - a.perStep);
let sum = 0; for (const r of rows) sum += r.perStep;
console.log(`total ${total.toFixed(1)} ms/step, kernels ${sum.toFixed(1)}`);
for (const r of rows.slice(0, 40)) console.log(r.perStep.toFixed(2).padStart(7), String(r.calls).padStart(4), r.k);
