import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { BackendWasm, setThreadsCount, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { ensureWasmBackend } from "../../src/runtimes/tfjs/wasm-backend.js";
import { registerWasmTrainingKernels } from "../../src/training/tfjs-kernels/index.js";
import { buildModel, syntheticPool } from "./models.js";
const require = createRequire(import.meta.url);
const out = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
const threads = Number(process.argv[2] ?? 2);
if (threads > 0) {
const factory = require(join(out, "tfjs-backend-wasm-threaded-simd.js"));
const { wasmWorkerContents } = require(join(out, "tfjs-backend-wasm-threaded-simd.worker.js"));
const workerFile = join(mkdtempSync(join(tmpdir(), "tfjs-wasm-")), "worker.cjs");
writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, "\\n"));
tf.removeBackend("wasm");
tf.registerBackend("wasm", async () => {
  const module = await factory({
    locateFile: (path: string) => path.endsWith(".worker.js") ? workerFile : join(out, path),
    instantiateWasm: (info: any, receive: any) => {
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      WebAssembly.instantiate(readFileSync(join(out, "tfjs-backend-wasm-threaded-simd.wasm")), info).then((r) => receive(r.instance, r.module));
      return {};
    },
    mainScriptUrlOrBlob: join(out, "tfjs-backend-wasm-threaded-simd.js"),
  });
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  return new BackendWasm(module);
}, 2);
setThreadsCount(threads);
}
await ensureWasmBackend();
console.log("threads", getThreadsCount(), "mem shared", (tf.backend() as any).wasm.HEAPU8.buffer instanceof SharedArrayBuffer);
registerWasmTrainingKernels();
const batch = 64;
const model = buildModel("cnn", 1);
const { images, labels } = syntheticPool(batch, 1);
const [x, y] = tf.tidy(() => [tf.slice(images, 0, batch), tf.slice(labels, 0, batch)]);
const wall: number[] = [], cpu: number[] = [];
for (let i = 0; i < 18; i++) {
  const t = performance.now(); const c = process.cpuUsage();
  await model.trainOnBatch(x as tf.Tensor, y as tf.Tensor);
  const u = process.cpuUsage(c);
  if (i >= 3) { wall.push(performance.now() - t); cpu.push((u.user + u.system) / 1000); }
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!.toFixed(1);
console.log(`threads ${threads}: wall ${med(wall)} cpu ${med(cpu)}`);
