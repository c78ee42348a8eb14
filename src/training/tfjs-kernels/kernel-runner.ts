import { type DataId, getKernel, type KernelConfig, type NamedAttrMap, type TensorInfo } from "@tensorflow/tfjs-core";

/**
 * Composite kernels call the wasm backend's own kernels directly (as the backends do internally)
 * instead of going through tfjs ops: an op inside a kernel would be dispatched through the engine
 * again, and tensors it creates would be tracked by whatever `tidy` scope is active. Kernel-level
 * calls hand back plain `TensorInfo`s whose storage this module frees explicitly.
 */

/** The part of tfjs-backend-wasm's `BackendWasm` that composite kernels need. */
export interface KernelBackend {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export interface KernelRunner {
  /** Runs a kernel registered for `backendName`; the result must be freed with `free`. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs?: NamedAttrMap): TensorInfo;
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
      const output = config.kernelFunc({ inputs, backend, attrs });
      if (Array.isArray(output)) throw new Error(`kernel ${kernelName} returned several outputs; expected one`);
      return output;
    },
    free(...infos) {
      for (const info of infos) backend.disposeData(info.dataId);
    },
  };
}
