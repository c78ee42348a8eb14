import {
  type DataId,
  type DataType,
  getKernel,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

/**
 * Composite kernels call the wasm backend's own kernels directly (as the backends do internally)
 * instead of going through tfjs ops: an op inside a kernel would be dispatched through the engine
 * again, and tensors it creates would be tracked by whatever `tidy` scope is active. Kernel-level
 * calls hand back plain `TensorInfo`s whose storage this module frees explicitly.
 *
 * Hot loops that XNNPACK does not cover (filter gradients, Winograd convolutions, pooling
 * gradients, sums, products with freshly updated weights) run as wasm SIMD functions on the heap
 * (simd-kernels.ts); rarer shapes fall back to JavaScript loops over the heap (tfjs 4.22's wasm
 * StridedSlice, Slice and broadcasting comparisons are generic per-element loops that turned out
 * slower than V8 running a tight typed-array loop).
 */

/** The part of tfjs-backend-wasm's `BackendWasm` that composite kernels need. */
export interface KernelBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
  /** Allocates an output tensor on the wasm heap (contents undefined). */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /**
   * A typed-array view of a tensor's bytes on the wasm heap. Views detach when the heap grows,
   * so take them after every allocation of the kernel and use them before the next one.
   */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The float32 heap view of a tensor, for kernels that loop over the data in JavaScript. */
export function float32View(backend: KernelBackend, info: TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) throw new Error(`expected a float32 tensor, got ${info.dtype}`);
  return view;
}

export interface KernelRunner {
  /** Runs a kernel registered for `backendName`; the result must be freed with `free`. Concat-like
   * kernels take an array of inputs. */
  run(kernelName: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs?: NamedAttrMap): TensorInfo;
  /** Releases intermediates (reshape outputs share storage and only drop a reference). */
  free(...infos: readonly TensorInfo[]): void;
}

export function createKernelRunner(
  backend: KernelBackend,
  backendName: string,
  overrides: ReadonlyMap<string, KernelConfig> = new Map(),
): KernelRunner {
  return {
    run(kernelName, inputs, attrs = {}) {
      const config = overrides.get(kernelName) ?? getKernel(kernelName, backendName);
      if (!config) throw new Error(`kernel ${kernelName} is not registered for the ${backendName} backend`);
      const output = config.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, backend, attrs });
      if (Array.isArray(output)) throw new Error(`kernel ${kernelName} returned several outputs; expected one`);
      return output;
    },
    free(...infos) {
      for (const info of infos) backend.disposeData(info.dataId);
    },
  };
}
