/**
 * Trainer templates on TensorFlow.js (wasm backend with Modelport's training kernels): MLP,
 * regression, bag-of-words, CNN, LSTM and a small Transformer encoder; seeded, with early
 * stopping and per-epoch checkpoints. `trainModel` writes a servable artifact directory.
 */
export { SelfAttention } from "./self-attention-layer.js";
export { buildSignature, type ModelSignature, signatureFormat, type TensorSpec } from "./signature.js";
export { buildModel, templateDefaults, templatePreprocessing } from "./templates.js";
export { trainModel } from "./train-model.js";
export type * from "./types.js";
export { templateNames } from "./types.js";
export { registerUnsortedSegmentSumKernel } from "./unsorted-segment-sum-kernel.js";
