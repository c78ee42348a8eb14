import {
  BatchMatMul,
  type BatchMatMulAttrs,
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, float32View, type KernelBackend, type KernelRunner } from "./kernel-runner.js";
import { matmulCall, parallelism, simdKernelsFor, splitRange } from "./simd-kernels.js";

/**
 * tfjs 4.22's wasm `BatchMatMul` reaches XNNPACK's GEMM only when neither operand is transposed;
 * with `transposeA` or `transposeB` it falls back to a scalar loop that is 7–10× slower (measured:
 * 2 GFLOP/s against 14–16 GFLOP/s for a 288×12544×64 product). Every dense-layer gradient
 * (dW = xᵀ·dy, dx = dy·Wᵀ) and attention's Q·Kᵀ ask for a transpose, so this wrapper materialises
 * the transposed operand with the (cheap, memory-bound) Transpose kernel and then calls the
 * original kernel without transposes.
 *
 * Shapes that the wasm SIMD products of matmul-wasm.ts take (float32; N % 8 = 0 without
 * transposes, M % 4 = 0 and N % 8 = 0 with transposeA, K % 4 = 0 and N % 4 = 0 with transposeB;
 * equal or size-1 batches) skip all that: they read both operands where they lie, pack nothing
 * and loop over the batch, where XNNPACK repacks a dense layer's freshly updated weights on every
 * call (the MNIST CNN's 3136×128 layer: forward 2.3 → ~1.2 ms) and tfjs's own kernel falls back to
 * a scalar loop for batch > 1.
 */

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, axis) => axis);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * XNNPACK repacks its right-hand operand ("weights") whenever that tensor is new, at ~3× the cost
 * of a transpose per element (measured: 10 ms to pack a fresh 50176×32 operand, 1.2 ms for the
 * product itself). With transposeB the wrapper's Bᵀ is always new, so compare the element traffic
 * of the two orders, counting a packed element as 3 transposed ones.
 */
function prefersSwappedProduct(a: TensorInfo, b: TensorInfo, transposeA: boolean): boolean {
  const rank = a.shape.length;
  const m = (transposeA ? a.shape[rank - 1] : a.shape[rank - 2]) ?? 0;
  const k = (transposeA ? a.shape[rank - 2] : a.shape[rank - 1]) ?? 0;
  const n = b.shape[b.shape.length - 2] ?? 0;
  // Broadcast batch dimensions stay in the direct order.
  if (util.sizeFromShape(a.shape.slice(0, -2)) !== util.sizeFromShape(b.shape.slice(0, -2))) return false;
  const direct = (transposeA ? m * k : 0) + k * n + 3 * k * n;
  const swapped = (transposeA ? 0 : m * k) + 3 * k * m + m * n;
  return swapped < direct;
}

/** The product by a wasm SIMD loop when the shapes allow it, otherwise undefined. */
function simdProduct(
  backend: KernelBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | undefined {
  const simd = simdKernelsFor(backend);
  if (!simd || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2)
    return undefined;
  const form = transposeA ? (transposeB ? undefined : "tn") : transposeB ? "nt" : "nn";
  if (!form) return undefined;
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  const m = (transposeA ? a.shape[rankA - 1] : a.shape[rankA - 2]) as number;
  const k = (transposeA ? a.shape[rankA - 2] : a.shape[rankA - 1]) as number;
  const n = (transposeB ? b.shape[rankB - 2] : b.shape[rankB - 1]) as number;
  if ((transposeB ? b.shape[rankB - 1] : b.shape[rankB - 2]) !== k) return undefined;
  const fits = form === "nn" ? n % 8 === 0 : form === "tn" ? m % 4 === 0 && n % 8 === 0 : k % 4 === 0 && n % 4 === 0;
  if (!fits || m === 0 || n === 0 || k === 0) return undefined;
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(batchShapeA);
  const batchB = util.sizeFromShape(batchShapeB);
  // Equal batches, or one side's single matrix used for every batch entry.
  const batchShape = backend_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
  const batch = util.sizeFromShape(batchShape);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return undefined;
  const out = backend.makeOutput([...batchShape, m, n], "float32");
  const addressA = float32View(backend, a).byteOffset;
  const addressB = float32View(backend, b).byteOffset;
  const addressC = float32View(backend, out).byteOffset;
  for (let index = 0; index < batch; index++) {
    const a = addressA + (batchA === 1 ? 0 : index * m * k * 4);
    const b = addressB + (batchB === 1 ? 0 : index * k * n * 4);
    const c = addressC + index * m * n * 4;
    // Rows of C are independent ("tn" reads A by columns: one thread).
    const slices =
      form === "tn" ? [{ begin: 0, end: m }] : splitRange(m, parallelism(simd, m * k * n), form === "nn" ? 4 : 2);
    simd.run(
      ...slices.map(({ begin, end }) =>
        matmulCall(
          form,
          { a: form === "tn" ? a : a + begin * k * 4, b, c: c + begin * n * 4 },
          { m: end - begin, k, n },
        ),
      ),
    );
  }
  return out;
}

export function createBatchMatMulKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: {
    inputs: { a?: TensorInfo; b?: TensorInfo };
    backend: KernelBackend;
    attrs: BatchMatMulAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    if (!a || !b) throw new Error("BatchMatMul needs inputs a and b");
    const { transposeA, transposeB } = attrs;
    const viaSimd = simdProduct(backend, a, b, transposeA, transposeB);
    if (viaSimd) return viaSimd;
    if ((!transposeA && !transposeB) || a.shape.length < 2 || b.shape.length < 2)
      return original.kernelFunc(args as never) as TensorInfo;
    const runner: KernelRunner = createKernelRunner(backend, backendName);
    const owned: TensorInfo[] = [];
    const transposed = (x: TensorInfo): TensorInfo => {
      const result = runner.run("Transpose", { x }, { perm: swapLastTwo(x.shape.length) });
      owned.push(result);
      return result;
    };
    try {
      if (transposeB && prefersSwappedProduct(a, b, transposeA)) {
        // C = op(A)·Bᵀ computed as Cᵀ = B·op(A)ᵀ: B is used as stored and XNNPACK packs the
        // smaller op(A)ᵀ instead of a freshly transposed (so never cached) Bᵀ.
        const right = transposeA ? a : transposed(a);
        const product = original.kernelFunc({
          inputs: { a: b, b: right },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        }) as TensorInfo;
        owned.push(product);
        return runner.run("Transpose", { x: product }, { perm: swapLastTwo(product.shape.length) });
      }
      const left = transposeA ? transposed(a) : a;
      const right = transposeB ? transposed(b) : b;
      return original.kernelFunc({
        inputs: { a: left, b: right },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
    } finally {
      runner.free(...owned);
    }
  };
  return { ...original, kernelName: BatchMatMul, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
