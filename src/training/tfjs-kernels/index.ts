export { createBatchMatMulKernel } from "./batch-mat-mul.js";
export { conv2dBackpropFilterWasm, createConv2dBackpropFilterKernel } from "./conv2d-backprop-filter.js";
export { conv2dBackpropInputWasm, createConv2dBackpropInputKernel } from "./conv2d-backprop-input.js";
export {
  ensureWasmTrainingBackend,
  registerWasmTrainingKernels,
  type WasmTrainingKernelOptions,
  type WasmTrainingKernelsReport,
} from "./register-wasm-training-kernels.js";
