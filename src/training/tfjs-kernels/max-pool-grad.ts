import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { float32View, type KernelBackend } from "./kernel-runner.js";

/**
 * A faster `MaxPoolGrad` for the wasm backend. tfjs 4.22's wasm kernel walks every input pixel
 * and, for each, every window that could contain it, recomputing maxima: ~35–45 ms per 2×2
 * pooling layer of the MNIST CNN at batch 64, more than the forward convolutions together.
 *
 * This one is a single pass over the windows on the wasm heap: find each window's maximum (the
 * first one in row-major order on ties, skipping padding, as tfjs's CPU and wasm kernels do) and
 * add the window's output gradient there. Overlapping windows accumulate. Channels are the inner
 * loop so every read and write is contiguous.
 */

export function maxPoolGradOnHeap(
  backend: KernelBackend,
  dy: TensorInfo,
  input: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput([...input.shape], "float32");
  // Views after the last allocation (see KernelBackend.typedArrayFromHeap).
  const x = float32View(backend, input);
  const gradient = float32View(backend, dy);
  const out = float32View(backend, dx);
  out.fill(0);
  const best = new Float32Array(channels);
  const bestAt = new Int32Array(channels);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const hStart = oh * strideHeight - top;
      for (let ow = 0; ow < outWidth; ow++) {
        const wStart = ow * strideWidth - left;
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let p = 0; p < effectiveFilterHeight; p += dilationHeight) {
          const h = hStart + p;
          if (h < 0 || h >= inHeight) continue;
          for (let q = 0; q < effectiveFilterWidth; q += dilationWidth) {
            const w = wStart + q;
            if (w < 0 || w >= inWidth) continue;
            const base = ((n * inHeight + h) * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c] as number;
              // Strictly greater: the first maximum wins, NaN and -Infinity never do.
              if (value > (best[c] as number)) {
                best[c] = value;
                bestAt[c] = base + c;
              }
            }
          }
        }
        const dyBase = ((n * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          const at = bestAt[c] as number;
          if (at >= 0) out[at] = (out[at] as number) + (gradient[dyBase + c] as number);
        }
      }
    }
  }
  return dx;
}

export function createMaxPoolGradKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: {
    inputs: { dy?: TensorInfo; input?: TensorInfo; output?: TensorInfo };
    backend: KernelBackend;
    attrs: MaxPoolGradAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs;
    if (!dy || !input) throw new Error("MaxPoolGrad needs inputs dy and input");
    if (input.shape.length !== 4 || dy.dtype !== "float32" || input.dtype !== "float32")
      return original.kernelFunc(args as never) as TensorInfo;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const expected = info.outShape;
    if (dy.shape.length !== 4 || dy.shape.some((size, axis) => size !== expected[axis]))
      throw new Error(`MaxPoolGrad: dy has shape [${dy.shape}] but the pooling outputs [${expected}]`);
    return maxPoolGradOnHeap(backend, dy, input, info);
  };
  return { ...original, kernelName: MaxPoolGrad, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
