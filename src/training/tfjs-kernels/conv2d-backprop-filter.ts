import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { winogradApplies, winogradFilterGradient3x3 } from "./conv2d-winograd.js";
import { createKernelRunner, float32View, type KernelBackend, type KernelRunner } from "./kernel-runner.js";
import { filterGradientCall, parallelism, type SimdKernels, simdKernelsFor, splitRange } from "./simd-kernels.js";

/**
 * `Conv2DBackpropFilter` for the wasm backend, which tfjs 4.22 does not ship (without it a Conv2D
 * layer cannot train on wasm). wasm's own Conv3DBackpropFilterV2 would work via a depth-1 view but
 * is a scalar loop (~580 ms for the MNIST CNN's second layer at batch 64, against ~8 ms here).
 *
 * The filter gradient is a correlation of the input with the output gradient:
 *   dW[a, b, c, o] = Σ_{n,i,j} xPadded[n, a + i·sh, b + j·sw, c] · dy[n, i, j, o]
 * Five formulations, picked per shape by `chooseFilterGradientMethod`:
 *
 * - "winograd" (3×3, stride 1, input channels % 4 = 0, output channels % 8 = 0): Winograd
 *   F(3×3, 2×2) in wasm SIMD (conv2d-winograd.ts), 2.25× fewer multiplications than the direct
 *   sum.
 * - "simd" (output channels % 4 = 0): the correlation as a wasm SIMD loop over x and dy where they
 *   lie (simd-kernels.ts), no intermediate tensors; with input channels % 4 = 0 and output
 *   channels % 8 = 0 it keeps a 4×8 tile of dW in registers (~40 GFLOP/s). XNNPACK is slower
 *   here: it would first pack a freshly computed operand of 400k–1.6M elements (~8–10 ms per
 *   call) and then stream a GEMM with a 12544–50176-long reduction.
 * - "transposed-conv": swapping the batch and channel axes makes it an ordinary forward
 *   convolution. The input becomes xᵀ [C, H, W, N] (a batch of C images with N channels), the
 *   filter becomes dyᵀ [OH, OW, N, OC] dilated by the forward strides, and the output
 *   [C, fh, fw, OC] is dW with its first axis moved. XNNPACK's GEMM then has C·fh·fw rows.
 * - "input-as-filter" (stride 1): the same correlation with the roles swapped, dyᵀ as the input
 *   and xᵀ as the filter. XNNPACK packs its filter operand on every call (the "weights" are
 *   new each step), so packing the smaller of x and dy is what this variant buys.
 * - "im2col": with few input channels C·fh·fw is too small to keep XNNPACK's GEMM busy, so the
 *   patch matrix [fh·fw·C, N·OH·OW] is written directly in that (already transposed) layout by a
 *   loop over the wasm heap and multiplied by dy viewed as [N·OH·OW, OC] in one un-transposed
 *   matMul.
 * The last three remain for output channel counts that are not a multiple of 4.
 *
 * Process CPU time per call at batch 64 (median of 7–11 calls, this repo's 2-core dev box; the
 * XNNPACK variants measured inside a training step, where every operand is new): MNIST CNN
 * layer 1 (28×28, C 1→32): simd 1.5 ms, transposed-conv 18.8, input-as-filter 15.8, im2col
 * 12.1–13.5; layer 2 (14×14, C 32→64): winograd 8.1, simd 11.0, transposed-conv 30.4,
 * input-as-filter 18.7–26.0, im2col 39.6; a 5×5 16→32 layer: transposed-conv 15.6,
 * input-as-filter 15.6, im2col 32.6; a stride-2 32→64 layer on 28×28: transposed-conv 37.7,
 * im2col 46.9.
 */

export type FilterGradientMethod = "winograd" | "simd" | "transposed-conv" | "input-as-filter" | "im2col";

/** Below this many GEMM rows (C·fh·fw) im2col wins; at 36 (C = 4, 3×3) the three tie. */
const im2colMaxRows = 32;

export function chooseFilterGradientMethod(info: backend_util.Conv2DInfo, simdAvailable = true): FilterGradientMethod {
  if (simdAvailable && winogradApplies(info)) return "winograd";
  if (simdAvailable && info.outChannels % 4 === 0) return "simd";
  if (info.inChannels * info.filterHeight * info.filterWidth < im2colMaxRows) return "im2col";
  const inputSize = info.inHeight * info.inWidth * info.inChannels;
  const gradientSize = info.outHeight * info.outWidth * info.outChannels;
  const unitStride = info.strideHeight === 1 && info.strideWidth === 1;
  return unitStride && inputSize < gradientSize ? "input-as-filter" : "transposed-conv";
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
    const simd = simdKernelsFor(backend);
    const chosen = method ?? chooseFilterGradientMethod(info, simd !== undefined);
    if (chosen === "winograd" && simd && winogradApplies(info))
      return winogradFilterGradient3x3(backend, runner, simd, xNhwc, dyNhwc, {
        batch: info.batchSize,
        inHeight: info.inHeight,
        inWidth: info.inWidth,
        inChannels: info.inChannels,
        outHeight: info.outHeight,
        outWidth: info.outWidth,
        outChannels: info.outChannels,
        top: info.padInfo.top,
        left: info.padInfo.left,
      });
    if ((chosen === "simd" || chosen === "winograd") && simd && info.outChannels % 4 === 0)
      return viaSimd(backend, simd, xNhwc, dyNhwc, info, owned);
    if (chosen === "im2col") return viaIm2col(runner, backend, xNhwc, dyNhwc, info, owned);
    if (chosen === "input-as-filter" && info.strideHeight === 1 && info.strideWidth === 1)
      return viaInputAsFilter(runner, xNhwc, dyNhwc, info, owned);
    return viaTransposedConv(runner, xNhwc, dyNhwc, info, owned);
  } finally {
    runner.free(...owned);
  }
}

/**
 * The direct SIMD loop; with several threads each sums a slice of the batch into its own copy of
 * dW, and the copies are added up here.
 */
function viaSimd(
  backend: KernelBackend,
  simd: SimdKernels,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  owned: TensorInfo[],
): TensorInfo {
  const filterSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const work = filterSize * info.batchSize * info.outHeight * info.outWidth;
  const slices = splitRange(info.batchSize, parallelism(simd, work));
  const out = backend.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], "float32");
  const partials = slices.length > 1 ? backend.makeOutput([slices.length - 1, filterSize], "float32") : undefined;
  if (partials) owned.push(partials);
  const xAddress = float32View(backend, x).byteOffset;
  const dyAddress = float32View(backend, dy).byteOffset;
  const outAddress = float32View(backend, out).byteOffset;
  const partialsAddress = partials ? float32View(backend, partials).byteOffset : 0;
  const imageBytes = info.inHeight * info.inWidth * info.inChannels * 4;
  const gradientBytes = info.outHeight * info.outWidth * info.outChannels * 4;
  simd.run(
    ...slices.map(({ begin, end }, index) =>
      filterGradientCall(
        {
          x: xAddress + begin * imageBytes,
          dy: dyAddress + begin * gradientBytes,
          out: index === 0 ? outAddress : partialsAddress + (index - 1) * filterSize * 4,
        },
        {
          batch: end - begin,
          inHeight: info.inHeight,
          inWidth: info.inWidth,
          inChannels: info.inChannels,
          outHeight: info.outHeight,
          outWidth: info.outWidth,
          outChannels: info.outChannels,
          filterHeight: info.filterHeight,
          filterWidth: info.filterWidth,
          strideHeight: info.strideHeight,
          strideWidth: info.strideWidth,
          top: info.padInfo.top,
          left: info.padInfo.left,
        },
      ),
    ),
  );
  if (partials) {
    const total = float32View(backend, out);
    const copies = float32View(backend, partials);
    for (let at = 0; at < copies.length; at++) {
      const index = at % filterSize;
      total[index] = (total[index] as number) + (copies[at] as number);
    }
  }
  return out;
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
 * Stride 1 only: the correlation read the other way round, dy as the convolution's input
 * (dyᵀ [OC, OH, OW, N]) and x as its filter (xᵀ [H, W, N, C]), giving dW flipped in space as
 * [OC, fh, fw, C]. XNNPACK then packs x instead of dy as weights.
 */
function viaInputAsFilter(
  runner: KernelRunner,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  owned: TensorInfo[],
): TensorInfo {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth } = info;
  const top = filterHeight - 1 - info.padInfo.top;
  const left = filterWidth - 1 - info.padInfo.left;
  const bottom = inHeight - outHeight + info.padInfo.top;
  const right = inWidth - outWidth + info.padInfo.left;
  let input = runner.run("Transpose", { x: dy }, { perm: [3, 1, 2, 0] }); // [OC, OH, OW, N]
  owned.push(input);
  if (top < 0 || left < 0 || bottom < 0 || right < 0) {
    const [outChannels = 0, height = 0, width = 0, batch = 0] = input.shape;
    const cropTop = Math.max(-top, 0);
    const cropLeft = Math.max(-left, 0);
    input = runner.run(
      "Slice",
      { x: input },
      {
        begin: [0, cropTop, cropLeft, 0],
        size: [outChannels, height - cropTop - Math.max(-bottom, 0), width - cropLeft - Math.max(-right, 0), batch],
      },
    );
    owned.push(input);
  }
  const filter = runner.run("Transpose", { x }, { perm: [1, 2, 0, 3] }); // [H, W, N, C]
  owned.push(filter);
  const correlated = runner.run(
    "Conv2D",
    { x: input, filter },
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
  ); // [OC, fh, fw, C], spatially flipped
  owned.push(correlated);
  const unflipped = runner.run("Reverse", { x: correlated }, { dims: [1, 2] });
  owned.push(unflipped);
  return runner.run("Transpose", { x: unflipped }, { perm: [1, 2, 3, 0] }); // [fh, fw, C, OC]
}

/**
 * The patch matrix [fh·fw·C, N·OH·OW] in dW's (a, b, c) row order, written straight from NHWC x
 * on the wasm heap (zeros where a window reaches into the padding).
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

/**
 * dW = patches·dy in one un-transposed matMul. (Ordering it as dWᵀ = dyᵀ·patchesᵀ would let
 * XNNPACK pack the smaller patch matrix instead of dy, but transposing the tall dy costs as much
 * as the packing saves: measured 11 ms either way for the MNIST CNN's first layer.)
 */
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
