import {
  BatchMatMul,
  Cast,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  engine,
  getKernel,
  Identity,
  type KernelConfig,
  MaxPoolGrad,
  registerKernel,
  Sum,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import { ModelportError } from "../../core/errors.js";
import { ensureWasmBackend } from "../../runtimes/tfjs/wasm-backend.js";
import { createBatchMatMulKernel } from "./batch-mat-mul.js";
import { createConv2dBackpropFilterKernel } from "./conv2d-backprop-filter.js";
import { createConv2dBackpropInputKernel } from "./conv2d-backprop-input.js";
import { createConv2dKernel } from "./conv2d-winograd.js";
import { createCastKernel, createIdentityKernel } from "./identity.js";
import { createMaxPoolGradKernel } from "./max-pool-grad.js";
import { createSumKernel } from "./sum.js";

/**
 * Makes tfjs's wasm backend able (and fast enough) to train CNNs: adds the missing
 * `Conv2DBackpropFilter` and replaces kernels whose 4.22 wasm versions are slow loops or needless
 * copies (`Conv2DBackpropInput`, `BatchMatMul` with transposed operands, `MaxPoolGrad`, `Sum` over
 * leading axes, `Identity` and same-dtype `Cast`) with XNNPACK formulations, wasm SIMD loops over
 * the heap or shared storage, and runs 3×3 stride-1 `Conv2D`s by Winograd F(2×2, 3×3) (2× faster
 * than XNNPACK's direct convolution); every case they do not cover goes to the original kernel. The replacements are process-wide, like every
 * tfjs kernel registration; they also speed up inference (transposed matMuls in attention) and
 * compute the same values (tested against tfjs's CPU backend).
 */

const backendName = "wasm";
/** Marks kernel configs installed here, so a second call can tell them from tfjs's own. */
const marker = Symbol.for("modelport.wasmTrainingKernel");

type MarkedConfig = KernelConfig & { [marker]?: true };

export interface WasmTrainingKernelOptions {
  /**
   * Also replace the slow `Conv2DBackpropInput`, transposed `BatchMatMul`, `MaxPoolGrad`,
   * leading-axis `Sum`, copying `Identity` and same-dtype `Cast` kernels, and the 3×3 stride-1
   * `Conv2D` (default true). `false` registers only the missing
   * `Conv2DBackpropFilter`; the benchmark uses it to show what the replacements contribute.
   */
  replaceSlowKernels?: boolean;
}

export interface WasmTrainingKernelsReport {
  /** Kernels that did not exist on wasm before and were added by this call. */
  added: string[];
  /** Existing wasm kernels this call wrapped with faster versions. */
  replaced: string[];
}

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config as MarkedConfig)[marker] === true;
}

function mark(config: KernelConfig): KernelConfig {
  return Object.assign(config, { [marker]: true as const });
}

function replace(kernelName: string, build: (original: KernelConfig) => KernelConfig): boolean {
  const original = getKernel(kernelName, backendName);
  if (!original) throw new Error(`the wasm backend has no ${kernelName} kernel to wrap`);
  if (isOurs(original)) return false;
  unregisterKernel(kernelName, backendName); // registerKernel would otherwise log a warning
  registerKernel(mark(build(original)));
  return true;
}

/**
 * Registers the training kernels for the wasm backend. Idempotent. Call it after
 * `ensureWasmBackend()`: the wrapped kernels rely on the backend's own kernels having been set up.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): WasmTrainingKernelsReport {
  // engine().registry holds initialised backends only; findBackend() would start initialising
  // wasm as a side effect, before ensureWasmBackend() has set the binaries' path.
  if (!engine().registry[backendName])
    throw new ModelportError(
      "MP_MODEL_NOT_READY",
      "the TensorFlow.js wasm backend is not initialised; await ensureWasmBackend() before registerWasmTrainingKernels()",
    );
  const report: WasmTrainingKernelsReport = { added: [], replaced: [] };
  // A kernel already there is either ours (second call) or one a future tfjs ships: keep it.
  if (!getKernel(Conv2DBackpropFilter, backendName)) {
    registerKernel(mark(createConv2dBackpropFilterKernel(backendName)));
    report.added.push(Conv2DBackpropFilter);
  }
  if (options.replaceSlowKernels ?? true) {
    if (replace(Conv2D, (original) => createConv2dKernel(original, backendName))) report.replaced.push(Conv2D);
    if (replace(Conv2DBackpropInput, (original) => createConv2dBackpropInputKernel(original, backendName)))
      report.replaced.push(Conv2DBackpropInput);
    if (replace(BatchMatMul, (original) => createBatchMatMulKernel(original, backendName)))
      report.replaced.push(BatchMatMul);
    if (replace(MaxPoolGrad, (original) => createMaxPoolGradKernel(original, backendName)))
      report.replaced.push(MaxPoolGrad);
    if (replace(Sum, (original) => createSumKernel(original, backendName))) report.replaced.push(Sum);
    if (replace(Identity, (original) => createIdentityKernel(original, backendName))) report.replaced.push(Identity);
    if (replace(Cast, (original) => createCastKernel(original, backendName))) report.replaced.push(Cast);
  }
  return report;
}

/** `ensureWasmBackend()` followed by `registerWasmTrainingKernels()`: what a trainer calls first. */
export async function ensureWasmTrainingBackend(options: WasmTrainingKernelOptions = {}): Promise<void> {
  await ensureWasmBackend();
  registerWasmTrainingKernels(options);
}
