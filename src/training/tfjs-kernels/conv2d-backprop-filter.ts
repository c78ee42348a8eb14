import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, float32View, type KernelBackend, type KernelRunner } from "./kernel-runner.js";

/**
 * `Conv2DBackpropFilter` for the wasm backend, which tfjs 4.22 does not ship (without it a Conv2D
 * layer cannot train on wasm). Built only from kernels wasm runs through XNNPACK or cheap data
 * movement; wasm's own Conv3DBackpropFilterV2 would work via a depth-1 view but is a scalar loop
 * (~580 ms for the MNIST CNN's second layer at batch 64, against ~25 ms here).
 *
 * The filter gradient is a correlation of the input with the output gradient:
 *   dW[a, b, c, o] = Σ_{n,i,j} xPadded[n, a + i·sh, b + j·sw, c] · dy[n, i, j, o]
 * Two formulations, picked per shape (see `chooseFilterGradientMethod`):
 *
 * - "transposed-conv": swapping the batch and channel axes makes it an ordinary forward
 *   convolution. The input becomes xᵀ [C, H, W, N] (a batch of C images with N channels), the
 *   filter becomes dyᵀ [OH, OW, N, OC] dilated by the forward strides, and the output
 *   [C, fh, fw, OC] is dW with its first axis moved. XNNPACK's GEMM then has C·fh·fw rows.
 * - "im2col": with few input channels those rows are too few to keep XNNPACK's GEMM busy, so the
 *   patch matrix [fh·fw·C, N·OH·OW] is written directly in that (already transposed) layout by a
 *   loop over the wasm heap and multiplied by dy viewed as [N·OH·OW, OC] in one un-transposed
 *   matMul.
 */

export type FilterGradientMethod = "transposed-conv" | "im2col";

/**
 * Below this many GEMM rows (C·fh·fw) the im2col form wins. Measured at batch 64 on the MNIST
 * CNN: C·fh·fw = 9 (first layer) is ~2× faster with im2col, 288 and 400 are 2–4× faster with the
 * transposed convolution.
 */
const im2colMaxRows = 64;

export function chooseFilterGradientMethod(info: backend_util.Conv2DInfo): FilterGradientMethod {
  return info.inChannels * info.filterHeight * info.filterWidth < im2colMaxRows ? "im2col" : "transposed-conv";
}

export function conv2dBackpropFilterWasm(
  backend: KernelBackend,
  runner: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
  method?: FilterGradientMethod,
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
    owned.push(xNhwc);
    dyNhwc = runner.run("Transpose", { x: dy }, { perm: [0, 2, 3, 1] });
    owned.push(dyNhwc);
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
    return (method ?? chooseFilterGradientMethod(info)) === "im2col"
      ? viaIm2col(runner, backend, xNhwc, dyNhwc, info, owned)
      : viaTransposedConv(runner, xNhwc, dyNhwc, info, owned);
  } finally {
    runner.free(...owned);
  }
}

/**
 * Padding after the input so the correlation covers exactly the filter window; negative when
 * the forward pass never read the last input rows (e.g. 'valid' with stride 2 on an even size).
 */
function trailingPads(info: backend_util.Conv2DInfo): { bottom: number; right: number } {
  return {
    bottom: info.filterHeight + (info.outHeight - 1) * info.strideHeight - info.inHeight - info.padInfo.top,
    right: info.filterWidth + (info.outWidth - 1) * info.strideWidth - info.inWidth - info.padInfo.left,
  };
}

function viaTransposedConv(
  runner: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  owned: TensorInfo[],
): TensorInfo {
  const { top, left } = info.padInfo;
  let { bottom, right } = trailingPads(info);
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
      dilations: [info.strideHeight, info.strideWidth],
    },
  ); // [C, fh, fw, OC]
  owned.push(correlated);
  return runner.run("Transpose", { x: correlated }, { perm: [1, 2, 0, 3] }); // [fh, fw, C, OC]
}

/**
 * The patch matrix [fh·fw·C, N·OH·OW] in dW's (a, b, c) row order, written straight from NHWC x on
 * the wasm heap (zeros where a window reaches into the padding).
 */
function im2colOnHeap(backend: KernelBackend, x: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const patches = batchSize * outHeight * outWidth;
  const columns = backend.makeOutput([filterHeight * filterWidth * channels, patches], "float32");
  const source = float32View(backend, x);
  const target = float32View(backend, columns);
  let row = 0;
  for (let a = 0; a < filterHeight; a++) {
    for (let b = 0; b < filterWidth; b++) {
      for (let c = 0; c < channels; c++, row++) {
        let at = row * patches;
        for (let n = 0; n < batchSize; n++) {
          for (let i = 0; i < outHeight; i++) {
            const h = i * strideHeight + a - top;
            if (h < 0 || h >= inHeight) {
              target.fill(0, at, at + outWidth);
              at += outWidth;
              continue;
            }
            const rowBase = (n * inHeight + h) * inWidth;
            for (let j = 0; j < outWidth; j++, at++) {
              const w = j * strideWidth + b - left;
              target[at] = w < 0 || w >= inWidth ? 0 : (source[(rowBase + w) * channels + c] as number);
            }
          }
        }
      }
    }
  }
  return columns;
}

function viaIm2col(
  runner: KernelRunner,
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  owned: TensorInfo[],
): TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const columns = im2colOnHeap(backend, x, info);
  owned.push(columns);
  const gradient = runner.run("Reshape", { x: dy }, { shape: [batchSize * outHeight * outWidth, outChannels] });
  owned.push(gradient);
  // Un-transposed, so wasm's BatchMatMul takes its XNNPACK path.
  const product = runner.run("BatchMatMul", { a: columns, b: gradient }, { transposeA: false, transposeB: false });
  owned.push(product);
  return runner.run("Reshape", { x: product }, { shape: [filterHeight, filterWidth, inChannels, outChannels] });
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
    return conv2dBackpropFilterWasm(backend, createKernelRunner(backend, backendName), x, dy, attrs);
  };
  return { kernelName: Conv2DBackpropFilter, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
