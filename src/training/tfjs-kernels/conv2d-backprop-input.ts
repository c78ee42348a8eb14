import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { winogradApplies, winogradConv3x3 } from "./conv2d-winograd.js";
import { createKernelRunner, type KernelBackend, type KernelRunner } from "./kernel-runner.js";
import { simdKernelsFor } from "./simd-kernels.js";

/**
 * A faster `Conv2DBackpropInput` for the wasm backend. tfjs 4.22's own wasm kernel is a plain
 * loop (~180 ms for the MNIST CNN's second layer at batch 64, 10× the forward convolution), which
 * would dominate a CNN training step.
 *
 * The input gradient is a "full" convolution of the output gradient with the spatially flipped
 * filter whose in/out channels are swapped:
 *   dx[n, h, w, c] = Σ_{a,b,o} dyUp[n, h + a - (fh-1-top), w + b - (fw-1-left), o] · W[fh-1-a, fw-1-b, c, o]
 * where dyUp is dy with (stride - 1) zeros inserted between its rows and columns. That is one
 * forward Conv2D, which wasm runs through XNNPACK. 3×3 stride-1 layers whose channel counts
 * vectorise (dy's % 4, dx's % 8) run that convolution by Winograd F(2×2, 3×3) in wasm SIMD instead
 * (conv2d-winograd.ts: 6.5 ms instead of 12 for the MNIST CNN's second layer at batch 64), reading
 * the filter flipped and channel-swapped in place. NCHW (never produced by tfjs-layers on wasm) is
 * handed to the backend's original kernel.
 */

export function conv2dBackpropInputWasm(
  backend: KernelBackend,
  runner: KernelRunner,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DBackpropInputAttrs,
): TensorInfo {
  const { strides, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const expected = info.outShape;
  if (dy.shape.length !== 4 || dy.shape.some((size, axis) => size !== expected[axis]))
    throw new Error(`Conv2DBackpropInput: dy has shape [${dy.shape}] but the convolution outputs [${expected}]`);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;

  // The input gradient's own convolution: dy (outChannels) → dx (inChannels), padded 2 − pad.
  const simd = simdKernelsFor(backend);
  const flippedTop = filterHeight - 1 - info.padInfo.top;
  const flippedLeft = filterWidth - 1 - info.padInfo.left;
  if (
    simd &&
    winogradApplies(info) &&
    outChannels % 4 === 0 &&
    info.inChannels % 8 === 0 &&
    flippedTop >= 0 &&
    flippedLeft >= 0
  )
    return winogradConv3x3(
      backend,
      runner,
      simd,
      dy,
      { info: filter, flipped: true },
      {
        batch: batchSize,
        inHeight: outHeight,
        inWidth: outWidth,
        inChannels: outChannels,
        outHeight: inHeight,
        outWidth: inWidth,
        outChannels: info.inChannels,
        top: flippedTop,
        left: flippedLeft,
      },
    );

  const owned: TensorInfo[] = [];
  try {
    // Zero-insertion for strides > 1, as a pad of a rank-6 view: [N, OH, 1, OW, 1, OC] →
    // [N, OH, sh, OW, sw, OC] → [N, OH·sh, OW·sw, OC]. The trailing zeros are cut by the padding
    // arithmetic below.
    let upsampled = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      const view = runner.run("Reshape", { x: dy }, { shape: [batchSize, outHeight, 1, outWidth, 1, outChannels] });
      owned.push(view);
      const padded = runner.run(
        "PadV2",
        { x: view },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, strideHeight - 1],
            [0, 0],
            [0, strideWidth - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      owned.push(padded);
      upsampled = runner.run(
        "Reshape",
        { x: padded },
        { shape: [batchSize, outHeight * strideHeight, outWidth * strideWidth, outChannels] },
      );
      owned.push(upsampled);
    }
    const upHeight = outHeight * strideHeight;
    const upWidth = outWidth * strideWidth;
    // Padding of the full convolution so that it outputs exactly inHeight × inWidth.
    const top = filterHeight - 1 - info.padInfo.top;
    const left = filterWidth - 1 - info.padInfo.left;
    const bottom = inHeight + filterHeight - 1 - top - upHeight;
    const right = inWidth + filterWidth - 1 - left - upWidth;
    // Negative padding (explicit forward pads wider than the filter, or unused trailing zeros)
    // becomes a crop of the upsampled gradient.
    if (top < 0 || left < 0 || bottom < 0 || right < 0) {
      const cropTop = Math.max(-top, 0);
      const cropLeft = Math.max(-left, 0);
      upsampled = runner.run(
        "Slice",
        { x: upsampled },
        {
          begin: [0, cropTop, cropLeft, 0],
          size: [
            batchSize,
            upHeight - cropTop - Math.max(-bottom, 0),
            upWidth - cropLeft - Math.max(-right, 0),
            outChannels,
          ],
        },
      );
      owned.push(upsampled);
    }

    const reversed = runner.run("Reverse", { x: filter }, { dims: [0, 1] });
    owned.push(reversed);
    const flipped = runner.run("Transpose", { x: reversed }, { perm: [0, 1, 3, 2] }); // [fh, fw, OC, C]
    owned.push(flipped);
    return runner.run(
      "Conv2D",
      { x: upsampled, filter: flipped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [Math.max(top, 0), Math.max(bottom, 0)],
          [Math.max(left, 0), Math.max(right, 0)],
          [0, 0],
        ],
        dataFormat: "NHWC",
        dilations: [1, 1],
      },
    );
  } finally {
    runner.free(...owned);
  }
}

/**
 * Builds the replacement kernel; `original` (the backend's own Conv2DBackpropInput) keeps
 * handling what this formulation does not cover (NCHW, non-float32).
 */
export function createConv2dBackpropInputKernel(
  original: KernelConfig | undefined,
  backendName = "wasm",
): KernelConfig {
  const kernelFunc = (args: {
    inputs: { dy?: TensorInfo; filter?: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropInputAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs;
    if (!dy || !filter) throw new Error("Conv2DBackpropInput needs inputs dy and filter");
    const supported = attrs.dataFormat !== "NCHW" && dy.dtype === "float32" && filter.dtype === "float32";
    if (!supported && original) return original.kernelFunc(args as never) as TensorInfo;
    if (!supported) throw new Error("Conv2DBackpropInput on wasm supports float32 NHWC tensors only");
    return conv2dBackpropInputWasm(backend, createKernelRunner(backend, backendName), dy, filter, attrs);
  };
  return {
    kernelName: Conv2DBackpropInput,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelFunc,
    // Keep the original's setup/dispose so a re-initialised backend still prepares it.
    ...(original?.setupFunc ? { setupFunc: original.setupFunc } : {}),
    ...(original?.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
  };
}
