import { wasmKernelThreads } from "../../runtimes/tfjs/wasm-backend.js";
import { filterGradientBlockedFunction, filterGradientFunction, filterGradientWidths } from "./filter-gradient-wasm.js";
import { matmulFunction, matmulTransposedFunction } from "./matmul-wasm.js";
import { maxPoolGrad2x2Function, sumRowsFunction } from "./pool-sum-wasm.js";
import { type SimdCall, SimdThreadPool } from "./simd-threads.js";
import { assembleModule } from "./wasm-assembler.js";
import { winogradConv3x3Function, winogradFilterGradient3x3Function } from "./winograd-wasm.js";

/**
 * Hand-written WebAssembly SIMD loops that work in place on the wasm backend's heap: the module
 * imports the backend's own memory, so tensors are passed as byte addresses and nothing is
 * copied. They cover the training step's hot loops that XNNPACK does badly or not at all
 * (filter gradients, Winograd convolutions, products with freshly updated weights, pooling
 * gradients, column sums); 128-bit SIMD runs them 4–8× faster than the same loops in JavaScript.
 *
 * Callers build calls with the functions below and hand them to `run`; with the multi-threaded
 * wasm build several calls (slices of one kernel) run at once on worker threads.
 */

export type { SimdCall } from "./simd-threads.js";

export interface SimdKernels {
  /** Threads that `run` can use at once (1 unless the multi-threaded wasm build is loaded). */
  readonly threads: number;
  /** Runs the calls, concurrently when there are several (at most `threads`). */
  run(...calls: readonly SimdCall[]): void;
}

/**
 * Below this many multiply-adds (or element visits) a kernel runs on one thread: handing a slice
 * to a worker costs ~20–50 µs of wake-up, which small products would not earn back.
 */
const minimumParallelWork = 1 << 21;

/** How many slices to cut `work` (multiply-adds or element visits) into. */
export function parallelism(simd: SimdKernels, work: number): number {
  return work >= minimumParallelWork ? simd.threads : 1;
}

/**
 * [0, total) cut into at most `parts` non-empty ranges whose boundaries are multiples of `align`,
 * for slicing a kernel's work across threads.
 */
export function splitRange(total: number, parts: number, align = 1): { begin: number; end: number }[] {
  const units = Math.ceil(total / align);
  const count = Math.max(1, Math.min(parts, units));
  const ranges: { begin: number; end: number }[] = [];
  for (let part = 0; part < count; part++) {
    const begin = Math.min(total, Math.round((units * part) / count) * align);
    const end = Math.min(total, Math.round((units * (part + 1)) / count) * align);
    if (end > begin) ranges.push({ begin, end });
  }
  return ranges;
}

export interface FilterGradientShape {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  top: number;
  left: number;
}

/**
 * dW[a, b, c, o] = Σ_{n,i,j} x[n, i·sh + a − top, j·sw + b − left, c] · dy[n, i, j, o] for NHWC x
 * and dy, written to `out` ([fh, fw, C, OC], overwritten). OC must be a multiple of 4; with
 * C % 4 = 0 and OC % 8 = 0 the register-blocked variant runs.
 */
export function filterGradientCall(
  addresses: { x: number; dy: number; out: number },
  s: FilterGradientShape,
): SimdCall {
  const vectorsPerRow = s.outChannels / 4;
  if (!Number.isInteger(vectorsPerRow)) throw new Error("filterGradient needs outChannels % 4 = 0");
  const vectors = filterGradientWidths.find((width) => vectorsPerRow % width === 0) ?? 1;
  const blocked = s.inChannels % 4 === 0 && s.outChannels % 8 === 0;
  return {
    name: blocked ? "filter_gradient_4x8" : `filter_gradient_${vectors}`,
    args: [
      addresses.x,
      addresses.dy,
      addresses.out,
      s.batch,
      s.inHeight,
      s.inWidth,
      s.inChannels,
      s.outHeight,
      s.outWidth,
      s.outChannels,
      s.filterHeight,
      s.filterWidth,
      s.strideHeight,
      s.strideWidth,
      s.top,
      s.left,
    ],
  };
}

/**
 * Gradient of a 2×2, stride-2, unpadded max pooling for NHWC data with channels % 4 = 0 (see
 * pool-sum-wasm.ts).
 */
export function maxPoolGrad2x2Call(
  addresses: { x: number; dy: number; dx: number },
  s: { batch: number; inHeight: number; inWidth: number; channels: number; outHeight: number; outWidth: number },
): SimdCall {
  if (s.channels % 4 !== 0) throw new Error("maxPoolGrad2x2 needs channels % 4 = 0");
  return {
    name: "max_pool_grad_2x2",
    args: [
      addresses.x,
      addresses.dy,
      addresses.dx,
      s.batch,
      s.inHeight,
      s.inWidth,
      s.channels,
      s.outHeight,
      s.outWidth,
    ],
  };
}

/** out[w] = Σ_r x[r, w] in float32, for `rows` rows of `width` floats. */
export function sumRowsCall(addresses: { x: number; out: number }, rows: number, width: number): SimdCall {
  return { name: "sum_rows", args: [addresses.x, addresses.out, rows, width] };
}

/**
 * C[M, N] = op(A)·op(B) for row-major float32 matrices: "nn" (A [M, K], B [K, N], N % 8 = 0),
 * "tn" (A [K, M], B [K, N], M % 4 = 0, N % 8 = 0) or "nt" (A [M, K], B [N, K], K % 4 = 0,
 * N % 4 = 0). C is overwritten.
 */
export function matmulCall(
  form: "nn" | "tn" | "nt",
  { a, b, c }: { a: number; b: number; c: number },
  { m, k, n }: { m: number; k: number; n: number },
): SimdCall {
  if (form === "nn") {
    if (n % 8 !== 0) throw new Error("matmul nn needs n % 8 = 0");
    return { name: "matmul_nn", args: [a, b, c, m, k, n] };
  }
  if (form === "nt") {
    if (k % 4 !== 0 || n % 4 !== 0) throw new Error("matmul nt needs k % 4 = 0 and n % 4 = 0");
    return { name: "matmul_nt", args: [a, b, c, m, k, n] };
  }
  if (m % 4 !== 0 || n % 8 !== 0) throw new Error("matmul tn needs m % 4 = 0 and n % 8 = 0");
  // Σ_k A[k, ·]ᵀ·B[k, ·] is the filter gradient of a 1×1 convolution over K "pixels".
  return { name: "filter_gradient_4x8", args: [a, b, c, 1, 1, k, m, 1, k, n, 1, 1, 1, 1, 0, 0] };
}

export interface WinogradTiling {
  batch: number;
  paddedHeight: number;
  paddedWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  tilesHigh: number;
  tilesWide: number;
  tilesPerChunk: number;
}

function tilingArguments(shape: WinogradTiling, tiles: { begin: number; end: number }): number[] {
  if (shape.inChannels % 4 !== 0 || shape.outChannels % 8 !== 0 || shape.tilesPerChunk % 4 !== 0)
    throw new Error("Winograd kernels need inChannels % 4 = 0, outChannels % 8 = 0, tilesPerChunk % 4 = 0");
  return [
    shape.batch,
    shape.paddedHeight,
    shape.paddedWidth,
    shape.inChannels,
    shape.outHeight,
    shape.outWidth,
    shape.outChannels,
    shape.tilesHigh,
    shape.tilesWide,
    shape.tilesPerChunk,
    tiles.begin,
    tiles.end,
  ];
}

/** Tiles [begin, end) of a 3×3 stride-1 convolution by Winograd F(2×2, 3×3); see winograd-wasm.ts. */
export function winogradConv3x3Call(
  addresses: { paddedInput: number; transformedFilter: number; out: number; scratch: number },
  shape: WinogradTiling,
  tiles: { begin: number; end: number },
): SimdCall {
  return {
    name: "winograd_conv3x3",
    args: [
      addresses.paddedInput,
      addresses.transformedFilter,
      addresses.out,
      addresses.scratch,
      ...tilingArguments(shape, tiles),
    ],
  };
}

/** Ŵ over tiles [begin, end) of a 3×3 stride-1 filter gradient by Winograd F(3×3, 2×2). */
export function winogradFilterGradient3x3Call(
  addresses: { paddedInput: number; dy: number; transformedGradient: number; scratch: number },
  shape: WinogradTiling,
  tiles: { begin: number; end: number },
): SimdCall {
  return {
    name: "winograd_filter_gradient3x3",
    args: [
      addresses.paddedInput,
      addresses.dy,
      addresses.transformedGradient,
      addresses.scratch,
      ...tilingArguments(shape, tiles),
    ],
  };
}

type Exports = Record<string, (...args: number[]) => void>;

const cache = new WeakMap<WebAssembly.Memory, SimdKernels>();

/**
 * The kernels bound to a wasm backend's heap, compiled once per heap; `undefined` when the
 * backend's memory cannot be reached (a tfjs build that hides it), so callers keep their other
 * paths.
 */
export function simdKernelsFor(backend: unknown): SimdKernels | undefined {
  const module = (backend as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  const known = cache.get(memory);
  if (known) return known;
  const functions = [
    ...filterGradientWidths.map((vectors) => filterGradientFunction(vectors)),
    filterGradientBlockedFunction(),
    maxPoolGrad2x2Function(),
    sumRowsFunction(),
    winogradConv3x3Function(),
    winogradFilterGradient3x3Function(),
    matmulFunction(),
    matmulTransposedFunction(),
  ];
  const shared = memory.buffer instanceof SharedArrayBuffer;
  const compiled = new WebAssembly.Module(assembleModule(functions, { shared }));
  const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as Exports;
  const runHere = ({ name, args }: SimdCall) => {
    const fn = exports[name];
    if (!fn) throw new Error(`no wasm SIMD kernel ${name}`);
    fn(...args);
  };
  // Worker threads can only share a shared heap, i.e. tfjs's multi-threaded build.
  const threads = shared ? wasmKernelThreads() : 1;
  let pool: SimdThreadPool | undefined;
  const kernels: SimdKernels = {
    threads,
    run(...calls) {
      if (calls.length <= 1) {
        if (calls[0]) runHere(calls[0]);
        return;
      }
      pool ??= new SimdThreadPool(
        threads,
        compiled,
        memory,
        functions.map((f) => f.name),
      );
      pool.runAll(calls, runHere);
    },
  };
  cache.set(memory, kernels);
  return kernels;
}
