import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ModelportError } from "../../core/errors.js";
import { createProfileBuilder, type FeatureSpec, type ReferenceProfile } from "../../monitoring/drift/index.js";
import { fileSaveHandler } from "../../runtimes/tfjs/file-io.js";
import { splitVersion } from "../datasets/dataset-store.js";
import { createSeededRandom } from "../datasets/seeded-random.js";
import { evaluateClassification, evaluateRegression, summarizeMetrics } from "../evaluation/evaluate.js";
import type { Label } from "../evaluation/labels.js";
import { augmentBatch } from "../preprocessing/augment.js";
import { fitPreprocessor, type Preprocessor } from "../preprocessing/preprocessor.js";
import { ensureWasmTrainingBackend } from "../tfjs-kernels/register-wasm-training-kernels.js";
import { buildSignature } from "./signature.js";
import { buildModel, templateDefaults, templatePreprocessing } from "./templates.js";
import { predictAll, runTrainingLoop, type SplitData } from "./train-loop.js";
import { type Hyperparameters, type TrainModelOptions, type TrainModelResult, templateNames } from "./types.js";
import { registerUnsortedSegmentSumKernel } from "./unsorted-segment-sum-kernel.js";

function invalid(message: string, param: string): ModelportError {
  return new ModelportError("MP_INVALID_REQUEST", message, { param });
}

function checkHyperparameters(hp: TrainModelResult["hyperparameters"]): void {
  const positiveInteger = (value: number, name: string) => {
    if (!Number.isInteger(value) || value < 1) throw invalid(`${name} must be a positive integer`, name);
  };
  positiveInteger(hp.epochs, "epochs");
  positiveInteger(hp.batchSize, "batchSize");
  if (!(hp.learningRate > 0 && hp.learningRate < 10)) throw invalid("learningRate must be in (0, 10)", "learningRate");
  if (!["adam", "sgd", "rmsprop"].includes(hp.optimizer))
    throw invalid(`unknown optimizer '${hp.optimizer}' (adam, sgd, rmsprop)`, "optimizer");
  if (!["cross-entropy", "mse"].includes(hp.loss))
    throw invalid(`unknown loss '${hp.loss}' (cross-entropy, mse)`, "loss");
  if (hp.lrDecay !== undefined && !(hp.lrDecay > 0 && hp.lrDecay <= 1))
    throw invalid("lrDecay must be in (0, 1]", "lrDecay");
  if (hp.patience !== undefined && (!Number.isInteger(hp.patience) || hp.patience < 0))
    throw invalid("patience must be a non-negative integer", "patience");
}

function optimizerOf(hp: TrainModelResult["hyperparameters"]): tf.Optimizer {
  switch (hp.optimizer) {
    case "sgd":
      return tf.train.sgd(hp.learningRate);
    case "rmsprop":
      return tf.train.rmsprop(hp.learningRate);
    default:
      return tf.train.adam(hp.learningRate);
  }
}

/**
 * The drift reference (monitoring/drift): the raw training-split inputs as clients send them (each
 * model input typed per the dataset schema) and the model's predictions on that split, summarized
 * so no training row is kept. Written as reference-profile.json; the registry records it.
 */
function trainingSplitProfile(options: {
  dataset: TrainModelOptions["dataset"];
  preprocessor: Preprocessor;
  rows: readonly number[];
  /** Model outputs on those rows: [rows × classes] probabilities, or [rows] values for regression. */
  outputs: Float32Array;
  classes: number;
}): ReferenceProfile {
  const { dataset, preprocessor, rows, outputs, classes } = options;
  const { columns, rows: cells } = dataset.table;
  const types = new Map(dataset.version.schema.columns.map((column) => [column.name, column.type]));
  const features: FeatureSpec[] = preprocessor.inputColumns.map((name) => ({
    name,
    type: types.get(name) ?? "numeric",
  }));
  const prediction = classes > 0 ? "label" : "prediction";
  const builder = createProfileBuilder({
    features,
    prediction: { name: prediction, type: classes > 0 ? "categorical" : "numeric" },
  });
  const indexes = features.map((feature) => [feature.name, columns.indexOf(feature.name)] as const);
  rows.forEach((rowIndex, i) => {
    const row: Record<string, unknown> = {};
    for (const [name, index] of indexes) row[name] = cells[rowIndex]?.[index];
    if (classes > 0) {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if ((outputs[i * classes + c] as number) > (outputs[i * classes + best] as number)) best = c;
      row[prediction] = preprocessor.decodeLabel(best);
    } else row[prediction] = outputs[i];
    builder.addRow(row);
  });
  return builder.finish();
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Trains a template on a loaded dataset version: seeded stratified split (test 20%, validation
 * 10% by default), preprocessing fitted on the training rows only, seeded initial weights and
 * shuffles, early stopping on validation loss, then evaluation on the test split. Writes the
 * artifact directory (model.json + weights.bin, preprocessor.json, signature.json,
 * metrics.json, labels.json, reference-profile.json) and returns what it did.
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const started = performance.now();
  const { dataset, template } = options;
  if (!templateNames.includes(template))
    throw invalid(`unknown template '${String(template)}' (${templateNames.join(", ")})`, "template");
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed) || seed < 0) throw invalid("seed must be a non-negative integer", "seed");
  const merged: Hyperparameters = { ...templateDefaults[template], ...options.hyperparameters };
  const hp = {
    ...merged,
    epochs: merged.epochs ?? 10,
    batchSize: merged.batchSize ?? 32,
    learningRate: merged.learningRate ?? 0.001,
    optimizer: merged.optimizer ?? "adam",
    loss: merged.loss ?? (template === "regression" ? "mse" : "cross-entropy"),
  } satisfies TrainModelResult["hyperparameters"];
  checkHyperparameters(hp);

  await ensureWasmTrainingBackend();
  registerUnsortedSegmentSumKernel();
  const { schema } = dataset.version;
  const config = templatePreprocessing(template, schema, hp);
  const testFraction = hp.testFraction ?? 0.2;
  const validationFraction = hp.validationFraction ?? 0.1;
  const split = splitVersion(dataset, {
    train: 1 - testFraction - validationFraction,
    validation: validationFraction,
    test: testFraction,
    seed,
  });
  if (split.train.length === 0 || split.test.length === 0)
    throw invalid("the dataset is too small to split into train and test rows", "dataset");
  const preprocessor = fitPreprocessor(dataset.table, config, split.train);
  const classes = preprocessor.spec.label?.task === "classification" ? preprocessor.spec.label.classes.length : 0;
  const width = preprocessor.width;
  const data = (indices: number[]): SplitData => ({
    x: preprocessor.transformTable(dataset.table, indices),
    y: preprocessor.labelsOf(dataset.table, indices),
    rows: indices.length,
  });
  const train = data(split.train);
  const validation = split.validation.length > 0 ? data(split.validation) : null;
  const test = data(split.test);

  let targetMean: number | undefined;
  if (classes === 0) {
    targetMean = 0;
    for (const value of train.y) targetMean += value / train.rows;
  }
  // tfjs draws initial weights from the seeded initializers; reset its global seed too, so any
  // unseeded draw inside a layer is the same on every run.
  const model = buildModel({
    template,
    preprocessor,
    classes,
    hp,
    seed,
    ...(targetMean === undefined ? {} : { targetMean }),
  });
  model.compile({
    optimizer: optimizerOf(hp),
    loss: hp.loss === "mse" ? "meanSquaredError" : "categoricalCrossentropy",
  });

  const outputDir = resolve(options.outputDir);
  await mkdir(outputDir, { recursive: true });
  const random = createSeededRandom(`${seed}:shuffle`);
  const augmentRandom = createSeededRandom(`${seed}:augment`);
  const imageStep = preprocessor.spec.steps[0];
  const augmentation = preprocessor.spec.augmentation;
  const augment =
    template === "cnn" && augmentation !== undefined && imageStep?.kind === "image"
      ? (batch: Float32Array) => augmentBatch(batch, imageStep.shape, augmentation, augmentRandom)
      : undefined;

  try {
    const loop = await runTrainingLoop({
      model,
      width,
      classes,
      train,
      validation,
      hp: { ...hp, patience: hp.patience ?? 0 },
      random,
      ...(augment === undefined ? {} : { augment }),
      ...(options.checkpoints === false ? {} : { checkpointDir: join(outputDir, "checkpoints") }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });

    const outputs = predictAll(model, test, width);
    let report: TrainModelResult["report"];
    let labels: Label[] = [];
    if (classes > 0) {
      labels = Array.from({ length: classes }, (_, c) => preprocessor.decodeLabel(c));
      const probabilities = Array.from({ length: test.rows }, (_, i) =>
        Array.from(outputs.subarray(i * classes, (i + 1) * classes)),
      );
      report = evaluateClassification({
        yTrue: Array.from(test.y, (c) => labels[c] as Label),
        probabilities,
        classes: labels,
      });
    } else {
      report = evaluateRegression({ yTrue: Array.from(test.y), yPred: Array.from(outputs) });
    }
    const metrics = summarizeMetrics(report);

    await model.save(fileSaveHandler(outputDir));
    await writeJson(join(outputDir, "preprocessor.json"), preprocessor.toJSON());
    await writeJson(join(outputDir, "signature.json"), buildSignature(template, preprocessor));
    await writeJson(join(outputDir, "labels.json"), labels);
    await writeJson(
      join(outputDir, "reference-profile.json"),
      trainingSplitProfile({
        dataset,
        preprocessor,
        rows: split.train,
        outputs: predictAll(model, train, width),
        classes,
      }),
    );
    const splitSizes = { train: train.rows, validation: validation?.rows ?? 0, test: test.rows };
    await writeJson(join(outputDir, "metrics.json"), {
      metrics,
      report,
      history: loop.history,
      bestEpoch: loop.bestEpoch,
      stoppedEarly: loop.stoppedEarly,
      split: splitSizes,
      dataset: { name: dataset.version.name, version: dataset.version.version },
      template,
      seed,
      hyperparameters: hp,
    });
    return {
      directory: outputDir,
      template,
      seed,
      hyperparameters: hp,
      history: loop.history,
      bestEpoch: loop.bestEpoch,
      stoppedEarly: loop.stoppedEarly,
      metrics,
      report,
      split: splitSizes,
      durationMs: performance.now() - started,
    };
  } finally {
    model.dispose();
  }
}
