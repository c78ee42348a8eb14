import { type KernelConfig, type KernelFunc, Sum, type SumAttrs, type TensorInfo, util } from "@tensorflow/tfjs-core";
import { float32View, type KernelBackend } from "./kernel-runner.js";
import { simdKernelsFor, sumRowsCall } from "./simd-kernels.js";

/**
 * A fast path for `Sum` over leading axes on the wasm backend. Bias gradients reduce dy over
 * [N, H, W] and keep the channels, i.e. over the *leading* axes; tfjs 4.22's wasm Sum only reduces
 * innermost axes, so it first transposes the whole gradient (7 ms for one [64, 28, 28, 32]
 * gradient at batch 64). Summing rows on the wasm heap reads it once, in order: blocks of rows are
 * summed in float32 by a wasm SIMD loop (simd-kernels.ts) and the block sums added in float64
 * (0.3 ms instead of 3 ms in JavaScript for that gradient). Every other reduction goes to the
 * backend's original kernel.
 */

/** Rows per float32 block sum; the float64 total keeps the rounding error of long sums small. */
const rowsPerBlock = 256;

function leadingAxes(axes: number[]): number | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((axis, index) => axis === index) ? sorted.length : undefined;
}

export function sumLeadingAxesOnHeap(
  backend: KernelBackend,
  x: TensorInfo,
  reducedAxes: number,
  keepDims: boolean,
): TensorInfo {
  const rows = util.sizeFromShape(x.shape.slice(0, reducedAxes));
  const kept = x.shape.slice(reducedAxes);
  const width = util.sizeFromShape(kept);
  const shape = keepDims ? [...x.shape.slice(0, reducedAxes).map(() => 1), ...kept] : kept;
  const output = backend.makeOutput(shape, "float32");
  const accumulator = new Float64Array(width);
  const simd = simdKernelsFor(backend);
  if (simd) {
    const source = float32View(backend, x).byteOffset;
    const target = float32View(backend, output);
    for (let row = 0; row < rows; row += rowsPerBlock) {
      simd.run(
        sumRowsCall({ x: source + row * width * 4, out: target.byteOffset }, Math.min(rowsPerBlock, rows - row), width),
      );
      for (let column = 0; column < width; column++)
        accumulator[column] = (accumulator[column] as number) + (target[column] as number);
    }
    target.set(accumulator);
    return output;
  }
  const source = float32View(backend, x);
  for (let row = 0, at = 0; row < rows; row++) {
    for (let column = 0; column < width; column++, at++)
      accumulator[column] = (accumulator[column] as number) + (source[at] as number);
  }
  float32View(backend, output).set(accumulator);
  return output;
}

export function createSumKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: { inputs: { x?: TensorInfo }; backend: KernelBackend; attrs: SumAttrs }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (!x) throw new Error("Sum needs input x");
    if (x.dtype === "float32" && x.shape.length > 1) {
      const reduced = leadingAxes(util.parseAxisParam(attrs.axis, x.shape));
      if (reduced !== undefined && reduced > 0 && reduced < x.shape.length)
        return sumLeadingAxesOnHeap(backend, x, reduced, attrs.keepDims);
    }
    return original.kernelFunc(args as never) as TensorInfo;
  };
  return { ...original, kernelName: Sum, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
