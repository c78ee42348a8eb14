import * as tf from "@tensorflow/tfjs-core";
import { ensureWasmBackend, wasmBackendInfo } from "/work/main/src/runtimes/tfjs/wasm-backend.js";
await ensureWasmBackend();
console.log(await wasmBackendInfo(), process.listeners("uncaughtException").length);
const a = tf.randomNormal([1024, 1024]);
for (let i = 0; i < 3; i++) { const t = performance.now(); await tf.matMul(a, a).data(); console.log((performance.now() - t).toFixed(1)); }
