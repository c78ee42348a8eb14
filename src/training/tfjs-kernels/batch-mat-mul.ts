import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { createKernelRunner, type KernelBackend, type KernelRunner } from "./kernel-runner.js";

/**
 * tfjs 4.22's wasm `BatchMatMul` reaches XNNPACK's GEMM only when neither operand is transposed;
 * with `transposeA` or `transposeB` it falls back to a scalar loop that is 7–10× slower (measured:
 * 2 GFLOP/s against 14–16 GFLOP/s for a 288×12544×64 product). Every dense-layer gradient
 * (dW = xᵀ·dy, dx = dy·Wᵀ) and attention's Q·Kᵀ ask for a transpose, so this wrapper materialises
 * the transposed operand with the (cheap, memory-bound) Transpose kernel and then calls the
 * original kernel without transposes.
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
