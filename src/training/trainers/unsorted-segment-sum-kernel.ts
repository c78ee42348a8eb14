import {
  getKernel,
  type KernelConfig,
  type KernelFunc,
  registerKernel,
  type TensorInfo,
  UnsortedSegmentSum,
  type UnsortedSegmentSumAttrs,
  util,
} from "@tensorflow/tfjs-core";
import type { KernelBackend } from "../tfjs-kernels/kernel-runner.js";

/**
 * `UnsortedSegmentSum` for the wasm backend, which tfjs 4.22 lacks: it is the gradient of
 * `Gather`, so without it no Embedding layer (LSTM, Transformer templates) can train on wasm.
 * A single pass over the wasm heap: out[segment[i]] += x[i] (rows with ids out of range are dropped,
 * as TensorFlow does).
 */
function unsortedSegmentSum(args: {
  inputs: { x?: TensorInfo; segmentIds?: TensorInfo };
  backend: KernelBackend;
  attrs: UnsortedSegmentSumAttrs;
}): TensorInfo {
  const { x, segmentIds } = args.inputs;
  if (!x || !segmentIds) throw new Error("UnsortedSegmentSum needs x and segmentIds");
  const { numSegments } = args.attrs;
  const ids = segmentIds.shape.length;
  const inner = x.shape.slice(ids);
  const width = util.sizeFromShape(inner);
  const rows = util.sizeFromShape(segmentIds.shape);
  const output = args.backend.makeOutput([numSegments, ...inner], x.dtype);
  // Views after the last allocation: makeOutput may grow (and detach) the heap.
  const source = args.backend.typedArrayFromHeap(x);
  const segments = args.backend.typedArrayFromHeap(segmentIds);
  const target = args.backend.typedArrayFromHeap(output);
  target.fill(0);
  for (let row = 0; row < rows; row++) {
    const segment = segments[row] as number;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * width;
    const to = segment * width;
    for (let k = 0; k < width; k++) target[to + k] = (target[to + k] as number) + (source[from + k] as number);
  }
  return output;
}

/** Registers the kernel for wasm unless one exists (a later tfjs may ship its own). */
export function registerUnsortedSegmentSumKernel(): void {
  if (getKernel(UnsortedSegmentSum, "wasm")) return;
  const config: KernelConfig = {
    kernelName: UnsortedSegmentSum,
    backendName: "wasm",
    kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
  };
  registerKernel(config);
}
