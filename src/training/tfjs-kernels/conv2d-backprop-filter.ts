import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, type KernelBackend, type KernelRunner } from "./kernel-runner.js";

/**
 * `Conv2DBackpropFilter` for the wasm backend, which tfjs 4.22 does not ship (without it a Conv2D
 * layer cannot train on wasm).
 *
 * The filter gradient is a correlation of the input with the output gradient:
 *   dW[a, b, c, o] = Σ_{n,i,j} xPadded[n, a + i·sh, b + j·sw, c] · dy[n, i, j, o]
 * Swapping the batch and channel axes turns that into an ordinary forward convolution, which wasm
 * runs through XNNPACK: the input becomes xᵀ [C, H, W, N] (a "batch" of C single images with N
 * channels), the filter becomes dyᵀ [OH, OW, N, OC] dilated by the forward strides, and the
 * output [C, fh, fw, OC] is dW with its first axis moved. Measured on the MNIST CNN's second
 * layer this is ~19× faster than the naive loop in wasm's Conv3DBackpropFilterV2 and ~2× faster
 * than im2col + matMul (which needs a large transposed patch matrix).
 */

export function conv2dBackpropFilterWasm(
  runner: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
): TensorInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (x.dtype !== "float32" || dy.dtype !== "float32")
    throw new Error(`Conv2DBackpropFilter on wasm needs float32 tensors, got x ${x.dtype} and dy ${dy.dtype}`);
  if (x.shape.length !== 4 || dy.shape.length !== 4)
    throw new Error(`Conv2DBackpropFilter needs rank-4 x and dy, got [${x.shape}] and [${dy.shape}]`);

  // Work in NHWC; NCHW callers get their tensors transposed once on the way in.
  const owned: TensorInfo[] = [];
  let xNhwc = x;
  let dyNhwc = dy;
  if (dataFormat === "NCHW") {
    xNhwc = runner.run("Transpose", { x }, { perm: [0, 2, 3, 1] });
    dyNhwc = runner.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
    owned.push(xNhwc, dyNhwc);
  }
  try {
    const info = backend_util.computeConv2DInfo(
      xNhwc.shape as [number, number, number, number],
      filterShape,
      strides,
      1, // the tfjs conv2d gradient refuses dilations > 1 before it ever reaches this kernel
      pad,
      dimRoundingMode,
      false,
      "channelsLast",
    );
    const expected = info.outShape;
    if (dyNhwc.shape.some((size, axis) => size !== expected[axis]))
      throw new Error(`Conv2DBackpropFilter: dy has shape [${dyNhwc.shape}] but the convolution outputs [${expected}]`);
    return filterGradient(runner, xNhwc, dyNhwc, info, owned);
  } finally {
    runner.free(...owned);
  }
}

function filterGradient(
  runner: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  owned: TensorInfo[],
): TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding after the input so the correlation yields exactly filterHeight × filterWidth rows;
  // negative when the forward pass never read the last input rows (e.g. 'valid' with stride 2).
  let bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  let right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;

  let input = runner.run("Transpose", { x }, { perm: [3, 1, 2, 0] }); // [C, H, W, N]
  owned.push(input);
  if (bottom < 0 || right < 0) {
    const [channels = 0, height = 0, width = 0, batch = 0] = input.shape;
    input = runner.run(
      "Slice",
      { x: input },
      { begin: [0, 0, 0, 0], size: [channels, height + Math.min(bottom, 0), width + Math.min(right, 0), batch] },
    );
    owned.push(input);
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  const filter = runner.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, OC]
  owned.push(filter);
  const correlated = runner.run(
    "Conv2D",
    { x: input, filter },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: "NHWC",
      dilations: [strideHeight, strideWidth],
    },
  ); // [C, fh, fw, OC]
  owned.push(correlated);
  return runner.run("Transpose", { x: correlated }, { perm: [1, 2, 0, 3] }); // [fh, fw, C, OC]
}

export function createConv2dBackpropFilterKernel(backendName = "wasm"): KernelConfig {
  const kernelFunc = ({
    inputs,
    backend,
    attrs,
  }: {
    inputs: { x?: TensorInfo; dy?: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DBackpropFilterAttrs;
  }): TensorInfo => {
    const { x, dy } = inputs;
    if (!x || !dy) throw new Error("Conv2DBackpropFilter needs inputs x and dy");
    return conv2dBackpropFilterWasm(createKernelRunner(backend, backendName), x, dy, attrs);
  };
  return { kernelName: Conv2DBackpropFilter, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
