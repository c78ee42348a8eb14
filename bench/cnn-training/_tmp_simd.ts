import * as tf from "@tensorflow/tfjs-core";
import { ensureWasmBackend } from "../../src/runtimes/tfjs/wasm-backend.js";
import { registerWasmTrainingKernels, conv2dBackpropFilterWasm } from "../../src/training/tfjs-kernels/index.js";
import { createKernelRunner, float32View } from "../../src/training/tfjs-kernels/kernel-runner.js";
import { simdKernelsFor } from "../../src/training/tfjs-kernels/simd-kernels.js";
await ensureWasmBackend();
registerWasmTrainingKernels();
const backend = tf.backend() as any;
const k = simdKernelsFor(backend)!;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function med(f: () => void, reps = 7) { const t: number[] = []; for (let r = 0; r < reps; r++) { const s = cpu(); f(); t.push(cpu() - s); } t.sort((a, b) => a - b); return t[reps >> 1]!.toFixed(2); }
for (const [xs, fs] of [[[64, 28, 28, 1], [3, 3, 1, 32]], [[64, 14, 14, 32], [3, 3, 32, 64]], [[2, 9, 8, 2], [5, 5, 2, 4]]] as const) {
  const x = tf.randomNormal(xs as any); 
  const info = tf.backend_util.computeConv2DInfo(xs as any, fs as any, 1, 1, "same");
  const dy = tf.randomNormal(info.outShape);
  const attrs = { strides: [1, 1], pad: "same", dataFormat: "NHWC", dimRoundingMode: undefined, filterShape: fs } as any;
  const ref = tf.engine().makeTensorFromTensorInfo(conv2dBackpropFilterWasm(backend, createKernelRunner(backend, "wasm"), x, dy, attrs));
  const out = tf.zeros(fs as any);
  const run = () => k.filterGradient({ x: float32View(backend, x).byteOffset, dy: float32View(backend, dy).byteOffset, out: float32View(backend, out).byteOffset }, {
    batch: info.batchSize, inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels, outHeight: info.outHeight, outWidth: info.outWidth, outChannels: info.outChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth, strideHeight: 1, strideWidth: 1, top: info.padInfo.top, left: info.padInfo.left });
  run();
  const diff = tf.max(tf.abs(tf.sub(ref, out))).dataSync()[0];
  const old = med(() => tf.dispose(tf.engine().makeTensorFromTensorInfo(conv2dBackpropFilterWasm(backend, createKernelRunner(backend, "wasm"), x, dy, attrs))));
  console.log(xs.join("x"), "maxdiff", diff, "simd ms", med(run), "current ms", old);
}
// maxpool
{
  const x = tf.relu(tf.randomNormal([64, 28, 28, 32])); const y = tf.maxPool(x as any, 2, 2, "valid"); const dy = tf.randomNormal(y.shape);
  const ref = tf.engine().runKernel("MaxPoolGrad", { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: "valid" }) as tf.Tensor;
  const dx = tf.zeros(x.shape);
  const run = () => k.maxPoolGrad2x2({ x: float32View(backend, x).byteOffset, dy: float32View(backend, dy).byteOffset, dx: float32View(backend, dx).byteOffset }, { batch: 64, inHeight: 28, inWidth: 28, channels: 32, outHeight: 14, outWidth: 14 });
  run();
  console.log("maxpool diff", tf.max(tf.abs(tf.sub(ref, dx))).dataSync()[0], "simd", med(run), "current", med(() => tf.dispose(tf.engine().runKernel("MaxPoolGrad", { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: "valid" }) as tf.Tensor)));
}
{
  const x = tf.randomNormal([64 * 28 * 28, 32]); const out = tf.zeros([32]);
  const ref = tf.sum(x, 0);
  const run = () => k.sumRows({ x: float32View(backend, x).byteOffset, out: float32View(backend, out).byteOffset }, 64 * 28 * 28, 32);
  run();
  console.log("sum diff", tf.max(tf.abs(tf.sub(ref, out))).dataSync()[0], "simd", med(run), "current", med(() => tf.dispose(tf.sum(x, 0))));
}
