import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, type KernelBackend, type KernelRunner } from "./kernel-runner.js";

/**
 * A faster `MaxPoolGrad` for the wasm backend in the common case of non-overlapping windows
 * (pool size = stride, e.g. 2×2/2) that lie inside the input. tfjs 4.22's wasm kernel is a scalar
 * loop that took ~35–45 ms per 2×2 pooling layer of the MNIST CNN at batch 64, more than the
 * forward convolutions.
 *
 * For each window offset (p, q), in row-major order, the input values at that offset are compared
 * with the pooled maximum; the first offset that equals it receives the window's gradient and
 * later ties get zero (the same choice as tfjs's CPU and wasm kernels). The per-offset gradients
 * are then interleaved back into the input layout with Pack + Reshape. Everything else
 * (overlapping windows, padding) goes to the backend's original kernel.
 */

function fastPathApplies(info: backend_util.Conv2DInfo): boolean {
  return (
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.strideHeight === info.filterHeight &&
    info.strideWidth === info.filterWidth &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight * info.strideHeight <= info.inHeight &&
    info.outWidth * info.strideWidth <= info.inWidth
  );
}

function nonOverlappingMaxPoolGrad(
  runner: KernelRunner,
  dy: TensorInfo,
  input: TensorInfo,
  output: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, filterHeight, filterWidth } = info;
  const owned: TensorInfo[] = [];
  const keep = (tensor: TensorInfo): TensorInfo => {
    owned.push(tensor);
    return tensor;
  };
  try {
    const zeros = keep(runner.run("ZerosLike", { x: dy }));
    let remaining = dy; // the gradient not yet claimed by an earlier maximum of the same window
    const rows: TensorInfo[] = [];
    for (let p = 0; p < filterHeight; p++) {
      const columns: TensorInfo[] = [];
      for (let q = 0; q < filterWidth; q++) {
        const values = keep(
          runner.run(
            "StridedSlice",
            { x: input },
            {
              begin: [0, p, q, 0],
              end: [
                batchSize,
                p + (outHeight - 1) * filterHeight + 1,
                q + (outWidth - 1) * filterWidth + 1,
                inChannels,
              ],
              strides: [1, filterHeight, filterWidth, 1],
              beginMask: 0,
              endMask: 0,
              ellipsisMask: 0,
              newAxisMask: 0,
              shrinkAxisMask: 0,
            },
          ),
        );
        const isMax = keep(runner.run("Equal", { a: values, b: output }));
        columns.push(keep(runner.run("Select", { condition: isMax, t: remaining, e: zeros })));
        const last = p === filterHeight - 1 && q === filterWidth - 1;
        if (!last) remaining = keep(runner.run("Select", { condition: isMax, t: zeros, e: remaining }));
      }
      // [N, OH, OW, fw, C] → [N, OH, OW·fw, C]: the columns of one window row, interleaved.
      const packed = keep(runner.run("Pack", columns, { axis: 3 }));
      rows.push(
        keep(
          runner.run("Reshape", { x: packed }, { shape: [batchSize, outHeight, outWidth * filterWidth, inChannels] }),
        ),
      );
    }
    // [N, OH, fh, OW·fw, C] → [N, OH·fh, OW·fw, C], then zero rows/columns no window covered.
    const packed = keep(runner.run("Pack", rows, { axis: 2 }));
    const covered = runner.run(
      "Reshape",
      { x: packed },
      { shape: [batchSize, outHeight * filterHeight, outWidth * filterWidth, inChannels] },
    );
    const missingRows = inHeight - outHeight * filterHeight;
    const missingColumns = inWidth - outWidth * filterWidth;
    if (missingRows === 0 && missingColumns === 0) return covered;
    keep(covered);
    return runner.run(
      "PadV2",
      { x: covered },
      {
        paddings: [
          [0, 0],
          [0, missingRows],
          [0, missingColumns],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  } finally {
    runner.free(...owned);
  }
}

export function createMaxPoolGradKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: {
    inputs: { dy?: TensorInfo; input?: TensorInfo; output?: TensorInfo };
    backend: KernelBackend;
    attrs: MaxPoolGradAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, input, output } = inputs;
    if (!dy || !input || !output) throw new Error("MaxPoolGrad needs inputs dy, input and output");
    if (input.shape.length === 4 && dy.dtype === "float32" && input.dtype === "float32") {
      const info = backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        attrs.filterSize,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
      );
      if (fastPathApplies(info))
        return nonOverlappingMaxPoolGrad(createKernelRunner(backend, backendName), dy, input, output, info);
    }
    return original.kernelFunc(args as never) as TensorInfo;
  };
  return { ...original, kernelName: MaxPoolGrad, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
