import type { LoadedDataset } from "../datasets/dataset-store.js";
import type { EvaluationReport } from "../evaluation/evaluate.js";

export const templateNames = ["mlp", "regression", "bow", "cnn", "lstm", "transformer"] as const;
export type TemplateName = (typeof templateNames)[number];

export type OptimizerName = "adam" | "sgd" | "rmsprop";
export type LossName = "cross-entropy" | "mse";

/** Every knob a template reads; absent values take the template's defaults. */
export interface Hyperparameters {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: OptimizerName;
  loss?: LossName;
  /** Early stopping: epochs without a validation-loss improvement before stopping (0 = off). */
  patience?: number;
  /** Minimum decrease of the validation loss that counts as an improvement. */
  minDelta?: number;
  /** Hidden layer widths (mlp, regression, bow; [] makes regression linear and bow a logistic regression). */
  hidden?: number[];
  /** Text templates: vocabulary size. */
  maxTokens?: number;
  /** lstm/transformer: tokens per text. */
  sequenceLength?: number;
  /** lstm/transformer: embedding width. */
  embeddingDim?: number;
  /** lstm units. */
  units?: number;
  /** Validation fraction of the whole dataset (default 0.1); the test fraction is `testFraction` (0.2). */
  validationFraction?: number;
  testFraction?: number;
  /** cnn: seeded augmentation (shift fraction, rotation degrees, zoom); off by default. */
  augment?: { shift?: number; rotate?: number; zoom?: number };
  /** Learning rate multiplier applied after each epoch (default 1 = constant). */
  lrDecay?: number;
  /** L2 penalty on kernels (bow, mlp). */
  l2?: number;
}

export interface EpochProgress {
  epoch: number;
  epochs: number;
  loss: number;
  valLoss: number | null;
  /** Validation metrics of the epoch (accuracy for classification, rmse for regression). */
  metrics: Record<string, number>;
  /** Batches done in this epoch, for a live bar (also sent per batch with `phase: "batch"`). */
  batch: number;
  batches: number;
  phase: "batch" | "epoch";
  elapsedMs: number;
}

export interface TrainModelOptions {
  dataset: LoadedDataset;
  template: TemplateName;
  hyperparameters?: Hyperparameters;
  seed?: number;
  /** The artifact directory (created; checkpoints go to `<outputDir>/checkpoints/epoch-N/`). */
  outputDir: string;
  onProgress?: (progress: EpochProgress) => void;
  /** Write a checkpoint per epoch (default true). */
  checkpoints?: boolean;
  /** Stops between batches when aborted (the artifact is not written). */
  signal?: AbortSignal;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  valLoss: number | null;
  metrics: Record<string, number>;
}

export interface TrainModelResult {
  /** The artifact directory: model.json + weights.bin, preprocessor.json, signature.json, metrics.json, labels.json. */
  directory: string;
  template: TemplateName;
  seed: number;
  hyperparameters: Required<Pick<Hyperparameters, "epochs" | "batchSize" | "learningRate" | "optimizer" | "loss">> &
    Hyperparameters;
  history: EpochRecord[];
  /** The epoch whose weights were kept (best validation loss). */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** Test-split metrics (summarizeMetrics). */
  metrics: Record<string, number>;
  report: EvaluationReport;
  split: { train: number; validation: number; test: number };
  durationMs: number;
}
