import {
  backend_util,
  Conv2D,
  type Conv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, float32View, type KernelBackend, type KernelRunner } from "./kernel-runner.js";
import {
  type SimdKernels,
  simdKernelsFor,
  splitRange,
  type WinogradTiling,
  winogradConv3x3Call,
  winogradFilterGradient3x3Call,
} from "./simd-kernels.js";

/**
 * 3×3 stride-1 convolutions (forward, and the input gradient, which is one too) by Winograd
 * F(2×2, 3×3) in wasm SIMD (winograd-wasm.ts). On the MNIST CNN's second layer at batch 64
 * (14×14, 32→64 channels) it takes ~6.5 ms CPU where XNNPACK's direct convolution takes ~11.5.
 */

/** Tiles per chunk: the chunk's transformed inputs and products (16·chunk·(C+OC) floats) stay in L2. */
const tilesPerChunk = 64;

export interface WinogradShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  /** Zero rows/columns added before the input (the convolution's top/left padding). */
  top: number;
  left: number;
}

/** Whether the Winograd path applies: 3×3, stride 1, no dilation, channel counts it vectorises. */
export function winogradApplies(info: backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.inChannels % 4 === 0 &&
    info.outChannels % 8 === 0 &&
    info.padInfo.top >= 0 &&
    info.padInfo.left >= 0
  );
}

/**
 * U_k[c][o] = (G·g·Gᵀ)[i][j], k = 4i + j, for G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]] and g the
 * 3×3 filter of input channel c and output channel o: W[a][b][c][o] of an HWIO filter, or for
 * `flipped` (the input gradient's convolution) W[2−a][2−b][o][c].
 */
function transformFilter(
  filter: Float32Array,
  flipped: boolean,
  channels: number,
  outChannels: number,
  into: Float32Array,
): void {
  const plane = channels * outChannels;
  const g = new Float64Array(9);
  const tmp = new Float64Array(12);
  for (let c = 0; c < channels; c++) {
    for (let o = 0; o < outChannels; o++) {
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++)
          g[a * 3 + b] = flipped
            ? (filter[((2 - a) * 3 + (2 - b)) * plane + o * channels + c] as number)
            : (filter[(a * 3 + b) * plane + c * outChannels + o] as number);
      // tmp = G·g (4×3)
      for (let b = 0; b < 3; b++) {
        const g0 = g[b] as number;
        const g1 = g[3 + b] as number;
        const g2 = g[6 + b] as number;
        tmp[b] = g0;
        tmp[3 + b] = (g0 + g1 + g2) / 2;
        tmp[6 + b] = (g0 - g1 + g2) / 2;
        tmp[9 + b] = g2;
      }
      // U = tmp·Gᵀ (4×4)
      for (let i = 0; i < 4; i++) {
        const t0 = tmp[i * 3] as number;
        const t1 = tmp[i * 3 + 1] as number;
        const t2 = tmp[i * 3 + 2] as number;
        const at = c * outChannels + o;
        into[i * 4 * plane + at] = t0;
        into[(i * 4 + 1) * plane + at] = (t0 + t1 + t2) / 2;
        into[(i * 4 + 2) * plane + at] = (t0 - t1 + t2) / 2;
        into[(i * 4 + 3) * plane + at] = t2;
      }
    }
  }
}

/**
 * out = conv(input, filter) for an NHWC float32 input and a 3×3 HWIO filter, stride 1. With
 * `flipped`, the filter is a forward filter [3, 3, outChannels, inChannels] used flipped in space
 * with its channel axes swapped: the input gradient's convolution, without materialising it.
 */
export function winogradConv3x3(
  backend: KernelBackend,
  runner: KernelRunner,
  simd: SimdKernels,
  input: TensorInfo,
  filter: { info: TensorInfo; flipped: boolean },
  shape: WinogradShape,
): TensorInfo {
  const { batch, inChannels, outHeight, outWidth, outChannels } = shape;
  const owned: TensorInfo[] = [];
  try {
    const { padded, tiling } = padForTiles(runner, input, shape, owned);
    // Tiles are independent: one range of them per thread, each with its own scratch.
    const slices = splitRange(tileCount(tiling), simd.threads, tilesPerChunk);
    const scratchFloats = 16 * tilesPerChunk * (inChannels + outChannels);
    const transformed = backend.makeOutput([16, inChannels, outChannels], "float32");
    owned.push(transformed);
    const scratch = backend.makeOutput([slices.length, scratchFloats], "float32");
    owned.push(scratch);
    const out = backend.makeOutput([batch, outHeight, outWidth, outChannels], "float32");
    // Views after the last allocation (allocations may move the heap).
    transformFilter(
      float32View(backend, filter.info),
      filter.flipped,
      inChannels,
      outChannels,
      float32View(backend, transformed),
    );
    const addresses = {
      paddedInput: float32View(backend, padded).byteOffset,
      transformedFilter: float32View(backend, transformed).byteOffset,
      out: float32View(backend, out).byteOffset,
    };
    const scratchAddress = float32View(backend, scratch).byteOffset;
    simd.run(
      ...slices.map((tiles, index) =>
        winogradConv3x3Call({ ...addresses, scratch: scratchAddress + index * scratchFloats * 4 }, tiling, tiles),
      ),
    );
    return out;
  } finally {
    runner.free(...owned);
  }
}

function tileCount(tiling: WinogradTiling): number {
  return tiling.batch * tiling.tilesHigh * tiling.tilesWide;
}

/**
 * The input zero-padded (or cut) so that the output's 2×2 tiles, ceil(OH/2) × ceil(OW/2) per
 * image, each read a 4×4 window inside it; intermediates go to `owned`.
 */
function padForTiles(
  runner: KernelRunner,
  input: TensorInfo,
  shape: WinogradShape,
  owned: TensorInfo[],
): { padded: TensorInfo; tiling: WinogradTiling } {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, top, left } = shape;
  const tilesHigh = Math.ceil(outHeight / 2);
  const tilesWide = Math.ceil(outWidth / 2);
  const paddedHeight = 2 * tilesHigh + 2;
  const paddedWidth = 2 * tilesWide + 2;
  const bottom = paddedHeight - inHeight - top;
  const right = paddedWidth - inWidth - left;
  let padded = input;
  if (bottom < 0 || right < 0) {
    // Rows the convolution never reads.
    padded = runner.run(
      "Slice",
      { x: padded },
      { begin: [0, 0, 0, 0], size: [batch, inHeight + Math.min(bottom, 0), inWidth + Math.min(right, 0), inChannels] },
    );
    owned.push(padded);
  }
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    padded = runner.run(
      "PadV2",
      { x: padded },
      {
        paddings: [
          [0, 0],
          [top, Math.max(bottom, 0)],
          [left, Math.max(right, 0)],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    owned.push(padded);
  }
  return {
    padded,
    tiling: {
      batch,
      paddedHeight,
      paddedWidth,
      inChannels,
      outHeight,
      outWidth,
      outChannels,
      tilesHigh,
      tilesWide,
      tilesPerChunk,
    },
  };
}

/**
 * dW [3, 3, C, OC] of a 3×3 stride-1 convolution of NHWC float32 x ([N, H, W, C], padded
 * `top`/`left`) whose output gradient is dy ([N, OH, OW, OC]), by Winograd F(3×3, 2×2): the wasm
 * function sums Ŵ = Σ_tiles (A·e·Aᵀ) ⊙ (Bᵀ·d·B) and this applies dW = Gᵀ·Ŵ·G.
 */
export function winogradFilterGradient3x3(
  backend: KernelBackend,
  runner: KernelRunner,
  simd: SimdKernels,
  x: TensorInfo,
  dy: TensorInfo,
  shape: WinogradShape,
): TensorInfo {
  const { inChannels, outChannels } = shape;
  const owned: TensorInfo[] = [];
  try {
    const { padded, tiling } = padForTiles(runner, x, shape, owned);
    // One range of tiles per thread, each summing into its own Ŵ with its own scratch.
    const slices = splitRange(tileCount(tiling), simd.threads, tilesPerChunk);
    const plane = inChannels * outChannels;
    const scratchFloats = 16 * tilesPerChunk * (inChannels + outChannels);
    const transformed = backend.makeOutput([slices.length, 16, plane], "float32");
    owned.push(transformed);
    const scratch = backend.makeOutput([slices.length, scratchFloats], "float32");
    owned.push(scratch);
    const out = backend.makeOutput([3, 3, inChannels, outChannels], "float32");
    const paddedInput = float32View(backend, padded).byteOffset;
    const dyAddress = float32View(backend, dy).byteOffset;
    const transformedAddress = float32View(backend, transformed).byteOffset;
    const scratchAddress = float32View(backend, scratch).byteOffset;
    simd.run(
      ...slices.map((tiles, index) =>
        winogradFilterGradient3x3Call(
          {
            paddedInput,
            dy: dyAddress,
            transformedGradient: transformedAddress + index * 16 * plane * 4,
            scratch: scratchAddress + index * scratchFloats * 4,
          },
          tiling,
          tiles,
        ),
      ),
    );
    inverseTransformGradient(float32View(backend, transformed), slices.length, plane, float32View(backend, out));
    return out;
  } finally {
    runner.free(...owned);
  }
}

/**
 * dW[a][b] = (Gᵀ·Ŵ·G)[a][b] per (c, o), Gᵀ = [[1,½,½,0],[0,½,−½,0],[0,½,½,1]], where Ŵ is the sum
 * of the `copies` per-thread sums stored one after another.
 */
function inverseTransformGradient(what: Float32Array, copies: number, plane: number, into: Float32Array): void {
  const w = new Float64Array(16);
  const t = new Float64Array(12);
  for (let at = 0; at < plane; at++) {
    w.fill(0);
    for (let copy = 0; copy < copies; copy++)
      for (let k = 0; k < 16; k++) w[k] = (w[k] as number) + (what[(copy * 16 + k) * plane + at] as number);
    // t = Gᵀ·Ŵ (3×4)
    for (let j = 0; j < 4; j++) {
      const w0 = w[j] as number;
      const w1 = w[4 + j] as number;
      const w2 = w[8 + j] as number;
      const w3 = w[12 + j] as number;
      t[j] = w0 + (w1 + w2) / 2;
      t[4 + j] = (w1 - w2) / 2;
      t[8 + j] = (w1 + w2) / 2 + w3;
    }
    // dW = t·G (3×3)
    for (let a = 0; a < 3; a++) {
      const t0 = t[a * 4] as number;
      const t1 = t[a * 4 + 1] as number;
      const t2 = t[a * 4 + 2] as number;
      const t3 = t[a * 4 + 3] as number;
      into[a * 3 * plane + at] = t0 + (t1 + t2) / 2;
      into[(a * 3 + 1) * plane + at] = (t1 - t2) / 2;
      into[(a * 3 + 2) * plane + at] = (t1 + t2) / 2 + t3;
    }
  }
}

/**
 * Replacement for the wasm backend's `Conv2D`: Winograd for the 3×3 stride-1 NHWC float32 cases
 * it covers (the usual CNN layer), the original XNNPACK kernel for everything else.
 */
export function createConv2dKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x?: TensorInfo; filter?: TensorInfo };
    backend: KernelBackend;
    attrs: Conv2DAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, filter } = inputs;
    if (!x || !filter) throw new Error("Conv2D needs inputs x and filter");
    const simd = simdKernelsFor(backend);
    if (
      simd &&
      attrs.dataFormat !== "NCHW" &&
      x.dtype === "float32" &&
      filter.dtype === "float32" &&
      x.shape.length === 4 &&
      filter.shape.length === 4
    ) {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        attrs.strides,
        attrs.dilations,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        "channelsLast",
      );
      if (winogradApplies(info))
        return winogradConv3x3(
          backend,
          createKernelRunner(backend, backendName),
          simd,
          x,
          { info: filter, flipped: false },
          {
            batch: info.batchSize,
            inHeight: info.inHeight,
            inWidth: info.inWidth,
            inChannels: info.inChannels,
            outHeight: info.outHeight,
            outWidth: info.outWidth,
            outChannels: info.outChannels,
            top: info.padInfo.top,
            left: info.padInfo.left,
          },
        );
    }
    return original.kernelFunc(args as never) as TensorInfo;
  };
  return { ...original, kernelName: Conv2D, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
