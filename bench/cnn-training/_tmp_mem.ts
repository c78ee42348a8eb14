import * as tf from "@tensorflow/tfjs-core";
import { ensureWasmBackend } from "../../src/runtimes/tfjs/wasm-backend.js";
await ensureWasmBackend();
const b = tf.backend() as any;
console.log(Object.keys(b.wasm).filter((k) => !k.startsWith("_")).slice(0, 80).join(" "));
console.log("asm", typeof b.wasm.asm, b.wasm.asm && Object.keys(b.wasm.asm).filter(k=>!k.startsWith("_")).slice(0,10), b.wasm.asm?.memory instanceof WebAssembly.Memory, b.wasm.wasmMemory);
