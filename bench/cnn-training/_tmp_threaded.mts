import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { BackendWasm, setThreadsCount, getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
const require = createRequire("/work/main/package.json");
const out = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
const factory = require(join(out, "tfjs-backend-wasm-threaded-simd.js"));
const threads = Number(process.argv[2] ?? 2);
import { writeFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
await tf.setBackend("wasm");
await tf.ready();
console.log("backend", tf.getBackend(), "threads", getThreadsCount());
const a = tf.randomNormal([1024, 1024]); const b = tf.randomNormal([1024, 1024]);
for (let r = 0; r < 5; r++) {
  const t = performance.now(); const c0 = process.cpuUsage();
  const c = tf.matMul(a, b); await c.data();
  const u = process.cpuUsage(c0);
  console.log("matmul 1024^3", (performance.now() - t).toFixed(1), "ms wall", ((u.user+u.system)/1000).toFixed(1), "cpu");
  c.dispose();
}
process.exit(0);
