import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
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
    try {
      const left = transposeA ? runner.run("Transpose", { x: a }, { perm: swapLastTwo(a.shape.length) }) : a;
      if (transposeA) owned.push(left);
      const right = transposeB ? runner.run("Transpose", { x: b }, { perm: swapLastTwo(b.shape.length) }) : b;
      if (transposeB) owned.push(right);
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
