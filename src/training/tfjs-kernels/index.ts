export { createBatchMatMulKernel } from "./batch-mat-mul.js";
export {
  chooseFilterGradientMethod,
  conv2dBackpropFilterWasm,
  createConv2dBackpropFilterKernel,
  type FilterGradientMethod,
} from "./conv2d-backprop-filter.js";
export { conv2dBackpropInputWasm, createConv2dBackpropInputKernel } from "./conv2d-backprop-input.js";
export { createMaxPoolGradKernel, maxPoolGradOnHeap } from "./max-pool-grad.js";
export {
  ensureWasmTrainingBackend,
  registerWasmTrainingKernels,
  type WasmTrainingKernelOptions,
  type WasmTrainingKernelsReport,
} from "./register-wasm-training-kernels.js";
export { createSumKernel, sumLeadingAxesOnHeap } from "./sum.js";
