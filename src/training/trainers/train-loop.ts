import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { ModelportError } from "../../core/errors.js";
import { fileSaveHandler } from "../../runtimes/tfjs/file-io.js";
import type { SeededRandom } from "../datasets/seeded-random.js";
import type { EpochProgress, EpochRecord, Hyperparameters } from "./types.js";

/** Features [rows × width] and targets (class indices or numbers) of one split. */
export interface SplitData {
  x: Float32Array;
  y: Int32Array | Float32Array;
  rows: number;
}

export interface LoopOptions {
  model: tfl.LayersModel;
  width: number;
  /** Classes for one-hot targets; 0 for regression. */
  classes: number;
  train: SplitData;
  validation: SplitData | null;
  hp: Required<Pick<Hyperparameters, "epochs" | "batchSize" | "patience">> & Hyperparameters;
  random: SeededRandom;
  /** Per-batch feature transform (seeded augmentation); returns a new array. */
  augment?: (batch: Float32Array) => Float32Array;
  checkpointDir?: string;
  onProgress?: (progress: EpochProgress) => void;
  signal?: AbortSignal;
}

export interface LoopResult {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

function gather(data: SplitData, width: number, order: readonly number[], start: number, end: number) {
  const count = end - start;
  const x = new Float32Array(count * width);
  const y = data.y instanceof Int32Array ? new Int32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const row = order[start + i] as number;
    x.set(data.x.subarray(row * width, (row + 1) * width), i * width);
    y[i] = data.y[row] as number;
  }
  return { x, y, count };
}

function targetTensor(y: Int32Array | Float32Array, classes: number, count: number): tf.Tensor {
  return classes > 0 ? tf.oneHot(tf.tensor1d(y as Int32Array, "int32"), classes) : tf.tensor2d(y, [count, 1]);
}

/** Model outputs for every row, in batches: [rows × outputs]. */
export function predictAll(
  model: tfl.LayersModel,
  data: { x: Float32Array; rows: number },
  width: number,
  batch = 256,
) {
  const outputs: Float32Array[] = [];
  for (let start = 0; start < data.rows; start += batch) {
    const count = Math.min(batch, data.rows - start);
    const out = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(start * width, (start + count) * width), [count, width]);
      return model.predict(x) as tf.Tensor;
    });
    outputs.push(out.dataSync() as Float32Array);
    out.dispose();
  }
  const total = outputs.reduce((sum, part) => sum + part.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const part of outputs) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/** Validation loss (the compiled loss's definition: categorical cross-entropy or MSE) and a headline metric. */
export function validationScores(
  model: tfl.LayersModel,
  data: SplitData,
  width: number,
  classes: number,
  loss: "cross-entropy" | "mse",
): { loss: number; metrics: Record<string, number> } {
  const out = predictAll(model, data, width);
  if (classes === 0) {
    let squares = 0;
    for (let i = 0; i < data.rows; i++) squares += ((out[i] as number) - (data.y[i] as number)) ** 2;
    const mse = squares / data.rows;
    return { loss: mse, metrics: { mse, rmse: Math.sqrt(mse) } };
  }
  let total = 0;
  let correct = 0;
  const epsilon = 1e-7;
  for (let i = 0; i < data.rows; i++) {
    const target = data.y[i] as number;
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const p = out[i * classes + c] as number;
      if (p > (out[i * classes + best] as number)) best = c;
      if (loss === "mse") total += (p - (c === target ? 1 : 0)) ** 2 / classes;
    }
    if (loss === "cross-entropy") {
      const p = Math.min(1 - epsilon, Math.max(epsilon, out[i * classes + target] as number));
      total -= Math.log(p);
    }
    if (best === target) correct++;
  }
  return { loss: total / data.rows, metrics: { accuracy: correct / data.rows } };
}

/**
 * tfjs optimizers keep the learning rate in a field their update step reads each time, with no
 * setter; changing it between epochs is the documented-by-use way to schedule it in tfjs.
 */
function decayLearningRate(model: tfl.LayersModel, factor: number): void {
  const optimizer = model.optimizer as unknown as { learningRate?: number };
  if (typeof optimizer.learningRate === "number") optimizer.learningRate *= factor;
}

function aborted(): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", "training was cancelled");
}

/**
 * Mini-batch training with a seeded shuffle per epoch, early stopping on the validation loss
 * (keeping the best epoch's weights), and a checkpoint directory per epoch.
 */
export async function runTrainingLoop(options: LoopOptions): Promise<LoopResult> {
  const { model, width, classes, train, validation, hp, random } = options;
  const history: EpochRecord[] = [];
  const started = performance.now();
  const batches = Math.ceil(train.rows / hp.batchSize);
  const lossName = hp.loss ?? (classes > 0 ? "cross-entropy" : "mse");
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: tf.Tensor[] | null = null;
  let wait = 0;
  let stoppedEarly = false;
  const minDelta = hp.minDelta ?? 0;
  const order = Array.from({ length: train.rows }, (_, i) => i);

  try {
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      random.shuffle(order);
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        if (options.signal?.aborted) throw aborted();
        const start = b * hp.batchSize;
        const end = Math.min(train.rows, start + hp.batchSize);
        const batch = gather(train, width, order, start, end);
        const features = options.augment ? options.augment(batch.x) : batch.x;
        const x = tf.tensor2d(features, [batch.count, width]);
        const y = targetTensor(batch.y, classes, batch.count);
        const result = await model.trainOnBatch(x, y);
        x.dispose();
        y.dispose();
        const loss = Array.isArray(result) ? (result[0] as number) : result;
        if (!Number.isFinite(loss)) {
          throw new ModelportError(
            "MP_INVALID_REQUEST",
            `training diverged at epoch ${epoch} (loss ${loss}); lower the learning rate`,
            { param: "learningRate" },
          );
        }
        lossSum += loss * batch.count;
        options.onProgress?.({
          epoch,
          epochs: hp.epochs,
          loss: lossSum / end,
          valLoss: null,
          metrics: {},
          batch: b + 1,
          batches,
          phase: "batch",
          elapsedMs: performance.now() - started,
        });
        // Yield to the event loop, so progress streams, HTTP handlers and cancellation run.
        if (b % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
      }
      const loss = lossSum / train.rows;
      const scores = validation === null ? null : validationScores(model, validation, width, classes, lossName);
      const record: EpochRecord = {
        epoch,
        loss,
        valLoss: scores?.loss ?? null,
        metrics:
          scores === null ? {} : Object.fromEntries(Object.entries(scores.metrics).map(([k, v]) => [`val_${k}`, v])),
      };
      history.push(record);
      if (hp.lrDecay !== undefined && hp.lrDecay !== 1) decayLearningRate(model, hp.lrDecay);
      if (options.checkpointDir !== undefined) {
        await model.save(fileSaveHandler(join(options.checkpointDir, `epoch-${epoch}`)));
      }
      options.onProgress?.({
        epoch,
        epochs: hp.epochs,
        loss,
        valLoss: record.valLoss,
        metrics: record.metrics,
        batch: batches,
        batches,
        phase: "epoch",
        elapsedMs: performance.now() - started,
      });
      if (scores === null) {
        bestEpoch = epoch;
        continue;
      }
      if (scores.loss < best - minDelta) {
        best = scores.loss;
        bestEpoch = epoch;
        wait = 0;
        for (const tensor of bestWeights ?? []) tensor.dispose();
        bestWeights = model.getWeights().map((weight) => weight.clone());
      } else {
        wait++;
        if (hp.patience > 0 && wait >= hp.patience && epoch < hp.epochs) {
          stoppedEarly = true;
          break;
        }
      }
    }
    // Keep the weights of the best validation epoch, as Keras's restore_best_weights does.
    if (bestWeights !== null && bestEpoch !== history.length) model.setWeights(bestWeights);
  } finally {
    for (const tensor of bestWeights ?? []) tensor.dispose();
  }
  return { history, bestEpoch, stoppedEarly };
}
