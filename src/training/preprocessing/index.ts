/**
 * Preprocessing fitted on the training split, saved with the model as JSON and applied again at
 * inference: scaling, categorical encoding, text vectorisation, image scaling; plus seeded image
 * augmentation for training.
 */
export { augmentBatch, augmentImage, drawTransform, type ImageTransform, transformImage } from "./augment.js";
export { type DefaultStepOptions, defaultPreprocessing, type PreprocessingConfig, type StepConfig } from "./fit.js";
export { fitPreprocessor, loadPreprocessor, type Preprocessor, type Segment } from "./preprocessor.js";
export {
  type AugmentationOptions,
  type LabelSpec,
  type PreprocessorSpec,
  preprocessingFormat,
  preprocessorSpecSchema,
  type StepSpec,
} from "./spec.js";
export { tokenize } from "./tokenizer.js";
