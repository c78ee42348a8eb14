import {
  Cast,
  type CastAttrs,
  type DataId,
  Identity,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";

/**
 * Zero-copy `Identity` and same-dtype `Cast` for the wasm backend. tfjs 4.22's wasm versions copy
 * the whole tensor, and autodiff calls them on every activation-sized gradient (the ReLU gradient
 * casts a float32 mask to float32; tfjs-layers clones outputs): ~4 copies of 1.6M floats per MNIST
 * CNN step. Tensors are immutable, so the output can share the input's storage, as tfjs's CPU
 * backend does and as wasm's own Reshape does: the backend reference-counts the buffer.
 */

interface RefCountingBackend {
  incRef(dataId: DataId): void;
}

function shared(backend: RefCountingBackend, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function createIdentityKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: { inputs: { x?: TensorInfo }; backend: RefCountingBackend }): TensorInfo => {
    const { x } = args.inputs;
    if (!x) throw new Error("Identity needs input x");
    // Strings live outside the heap; the original kernel handles them.
    if (x.dtype === "string") return original.kernelFunc(args as never) as TensorInfo;
    return shared(args.backend, x);
  };
  return { ...original, kernelName: Identity, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function createCastKernel(original: KernelConfig, backendName = "wasm"): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x?: TensorInfo };
    backend: RefCountingBackend;
    attrs: CastAttrs;
  }): TensorInfo => {
    const { x } = args.inputs;
    if (!x) throw new Error("Cast needs input x");
    if (x.dtype !== args.attrs.dtype || x.dtype === "string") return original.kernelFunc(args as never) as TensorInfo;
    return shared(args.backend, x);
  };
  return { ...original, kernelName: Cast, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
