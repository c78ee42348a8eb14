import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelportError } from "../src/core/errors.js";
import { fileLoadHandler } from "../src/runtimes/tfjs/file-io.js";
import { loadPreprocessor } from "../src/training/preprocessing/preprocessor.js";
import { type ModelSignature, trainModel } from "../src/training/trainers/index.js";
import { openTrainingBench, sentimentTable, type TrainingBench, tabularTable } from "./training-helpers.js";

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

describe("trainer templates", () => {
  let bench: TrainingBench;
  before(async () => {
    bench = await openTrainingBench();
  });
  after(async () => {
    await bench?.close();
  });

  test("same seed → same weights after an epoch; another seed → different weights", async () => {
    const dataset = await bench.load("tabular", tabularTable(300));
    const train = (seed: number, dir: string) =>
      trainModel({
        dataset,
        template: "mlp",
        seed,
        hyperparameters: { epochs: 1, hidden: [8] },
        outputDir: join(bench.dataDir, dir),
        checkpoints: false,
      });
    await train(7, "a");
    await train(7, "b");
    await train(8, "c");
    const a = await readFile(join(bench.dataDir, "a", "weights.bin"));
    const b = await readFile(join(bench.dataDir, "b", "weights.bin"));
    const c = await readFile(join(bench.dataDir, "c", "weights.bin"));
    assert.ok(a.length > 0);
    assert.ok(a.equals(b), "same seed, same weights");
    assert.ok(!a.equals(c), "different seed, different weights");
  });

  test("tabular MLP: artifact files, signature, checkpoints, and it learns", async () => {
    const dataset = await bench.load("tabular", tabularTable(300));
    const outputDir = join(bench.dataDir, "mlp");
    const progress: string[] = [];
    const result = await trainModel({
      dataset,
      template: "mlp",
      seed: 1,
      hyperparameters: { epochs: 15, hidden: [16], learningRate: 0.02, patience: 0 },
      outputDir,
      onProgress: (p) => progress.push(p.phase),
    });
    for (const file of [
      "model.json",
      "weights.bin",
      "preprocessor.json",
      "signature.json",
      "metrics.json",
      "labels.json",
    ]) {
      assert.ok((await stat(join(outputDir, file))).size > 0, `${file} written`);
    }
    assert.ok((await stat(join(outputDir, "checkpoints", "epoch-1", "model.json"))).isFile(), "epoch 1 checkpoint");
    assert.ok((await stat(join(outputDir, "checkpoints", "epoch-15", "weights.bin"))).isFile(), "epoch 15 checkpoint");
    assert.equal(result.history.length, 15);
    assert.equal(progress.filter((phase) => phase === "epoch").length, 15);
    assert.ok(progress.includes("batch"));
    assert.ok((result.metrics.accuracy ?? 0) > 0.85, `accuracy ${result.metrics.accuracy}`);
    const signature = await json<ModelSignature>(join(outputDir, "signature.json"));
    assert.deepEqual(
      signature.inputs.map((input) => [input.name, input.datatype, input.shape]),
      [
        ["x1", "FP32", [-1]],
        ["x2", "FP32", [-1]],
        ["color", "BYTES", [-1]],
      ],
    );
    assert.deepEqual(signature.outputs, [
      { name: "label", datatype: "BYTES", shape: [-1] },
      { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
    ]);
    assert.deepEqual(await json(join(outputDir, "labels.json")), ["no", "yes"]);
    const saved = await json<{
      metrics: Record<string, number>;
      report: { task: string; confusionMatrix: number[][] };
    }>(join(outputDir, "metrics.json"));
    assert.equal(saved.metrics.accuracy, result.metrics.accuracy);
    assert.equal(saved.report.task, "classification");
    assert.equal(
      saved.report.confusionMatrix.flat().reduce((a, b) => a + b, 0),
      result.split.test,
    );

    // The saved artifact serves: reload model + preprocessor and predict raw rows.
    const model = await tfl.loadLayersModel(fileLoadHandler(join(outputDir, "model.json")));
    const preprocessor = loadPreprocessor(await readFile(join(outputDir, "preprocessor.json"), "utf8"));
    const x = preprocessor.transform([
      { x1: 0.9, x2: 0.8, color: "red" },
      { x1: -0.9, x2: -0.7, color: "blue" },
    ]);
    const out = model.predict(tf.tensor2d(x, [2, preprocessor.width])) as tf.Tensor;
    const probabilities = (await out.array()) as number[][];
    assert.ok((probabilities[0]?.[1] ?? 0) > 0.5, "positive sum → yes");
    assert.ok((probabilities[1]?.[0] ?? 0) > 0.5, "negative sum → no");
  });

  test("early stopping: noisy labels and a large learning rate stop before the last epoch", async () => {
    const dataset = await bench.load("noisy", tabularTable(240, 3, 0.6));
    const result = await trainModel({
      dataset,
      template: "mlp",
      seed: 2,
      hyperparameters: { epochs: 40, hidden: [64, 64], learningRate: 0.05, patience: 2 },
      outputDir: join(bench.dataDir, "noisy"),
      checkpoints: false,
    });
    assert.equal(result.stoppedEarly, true);
    assert.ok(result.history.length < 40, `${result.history.length} epochs`);
    // Stopped exactly `patience` epochs after the best one, whose weights were kept.
    assert.equal(result.history.length, result.bestEpoch + 2);
    const best = Math.min(...result.history.map((epoch) => epoch.valLoss as number));
    assert.equal(result.history[result.bestEpoch - 1]?.valLoss, best);
  });

  test("regression (linear): learns y = 3·x1 − 2·x2 + 5 and signs FP32 prediction", async () => {
    const rows = tabularTable(300, 5).rows.map((row) => {
      const [x1, x2] = row as [number, number];
      return [x1, x2, 3 * x1 - 2 * x2 + 5];
    });
    const dataset = await bench.load("linear", { columns: ["x1", "x2", "target"], rows }, { label: "target" });
    const outputDir = join(bench.dataDir, "linear");
    const result = await trainModel({
      dataset,
      template: "regression",
      seed: 3,
      hyperparameters: { epochs: 60, learningRate: 0.05 },
      outputDir,
      checkpoints: false,
    });
    assert.ok((result.metrics.rmse ?? 1) < 0.1, `rmse ${result.metrics.rmse}`);
    assert.ok((result.metrics.r2 ?? 0) > 0.99);
    const signature = await json<ModelSignature>(join(outputDir, "signature.json"));
    assert.equal(signature.task, "regression");
    assert.deepEqual(signature.outputs, [{ name: "prediction", datatype: "FP32", shape: [-1] }]);
    assert.deepEqual(await json(join(outputDir, "labels.json")), []);
  });

  test("bag-of-words: text BYTES in, label BYTES + probabilities FP32 out", async () => {
    const dataset = await bench.load("sentiment", sentimentTable(200));
    const outputDir = join(bench.dataDir, "bow");
    const result = await trainModel({
      dataset,
      template: "bow",
      seed: 4,
      hyperparameters: { epochs: 5 },
      outputDir,
      checkpoints: false,
    });
    assert.ok((result.metrics.accuracy ?? 0) >= 0.95, `accuracy ${result.metrics.accuracy}`);
    const signature = await json<ModelSignature>(join(outputDir, "signature.json"));
    assert.deepEqual(signature.inputs, [{ name: "text", datatype: "BYTES", shape: [-1] }]);
    assert.deepEqual(signature.outputs, [
      { name: "label", datatype: "BYTES", shape: [-1] },
      { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
    ]);
  });

  for (const template of ["lstm", "transformer"] as const) {
    test(`${template}: trains on a tiny text set and beats chance`, async () => {
      const dataset = await bench.load("sentiment", sentimentTable(200));
      const outputDir = join(bench.dataDir, template);
      const result = await trainModel({
        dataset,
        template,
        seed: 5,
        hyperparameters: { epochs: 6, sequenceLength: 16, embeddingDim: 16, units: 16, learningRate: 0.01 },
        outputDir,
        checkpoints: false,
      });
      assert.ok((result.metrics.accuracy ?? 0) > 0.75, `${template} accuracy ${result.metrics.accuracy}`);
      // The saved model (with the custom attention layer) loads again.
      const model = await tfl.loadLayersModel(fileLoadHandler(join(outputDir, "model.json")));
      assert.deepEqual(model.outputs[0]?.shape, [null, 2]);
    });
  }

  test("cnn: image FP32 [-1, H·W] in, label INT64 + probabilities out", async () => {
    const rows: (number | number[])[][] = [];
    for (let i = 0; i < 60; i++) {
      const digit = i % 2;
      const pixels = Array.from({ length: 64 }, (_, p) => ((digit === 0 ? p % 8 < 4 : p % 8 >= 4) ? 1 : 0));
      rows.push([pixels, digit]);
    }
    const dataset = await bench.load(
      "blocks",
      { columns: ["image", "label"], rows },
      { label: "label", types: { label: "categorical" }, shapes: { image: [8, 8] } },
    );
    const outputDir = join(bench.dataDir, "cnn");
    const result = await trainModel({
      dataset,
      template: "cnn",
      seed: 6,
      hyperparameters: { epochs: 3, batchSize: 16, augment: { shift: 0.05 } },
      outputDir,
    });
    assert.ok((result.metrics.accuracy ?? 0) > 0.9, `accuracy ${result.metrics.accuracy}`);
    const signature = await json<ModelSignature>(join(outputDir, "signature.json"));
    assert.deepEqual(signature.inputs, [{ name: "image", datatype: "FP32", shape: [-1, 64] }]);
    assert.deepEqual(signature.outputs, [
      { name: "label", datatype: "INT64", shape: [-1] },
      { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
    ]);
    assert.deepEqual(await json(join(outputDir, "labels.json")), [0, 1]);
    const preprocessor = await json<{ augmentation?: unknown }>(join(outputDir, "preprocessor.json"));
    assert.deepEqual(preprocessor.augmentation, { shift: 0.05 }, "augmentation recorded for lineage");
  });

  test("bad requests fail with MP_INVALID_REQUEST before training", async () => {
    const dataset = await bench.load("tabular", tabularTable(300));
    const outputDir = join(bench.dataDir, "bad");
    const cases: [string, Parameters<typeof trainModel>[0]][] = [
      ["unknown template", { dataset, template: "gpt" as "mlp", outputDir }],
      ["regression on a classification dataset", { dataset, template: "regression", outputDir }],
      ["text template without a text column", { dataset, template: "bow", outputDir }],
      ["zero epochs", { dataset, template: "mlp", outputDir, hyperparameters: { epochs: 0 } }],
      ["unknown optimizer", { dataset, template: "mlp", outputDir, hyperparameters: { optimizer: "lbfgs" as "sgd" } }],
      ["negative seed", { dataset, template: "mlp", outputDir, seed: -1 }],
    ];
    for (const [name, options] of cases) {
      await assert.rejects(
        trainModel(options),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_INVALID_REQUEST",
        name,
      );
    }
    await assert.rejects(stat(join(outputDir, "model.json")), "nothing written");
  });

  test("SGD and RMSprop optimizers and MSE loss train too", async () => {
    const dataset = await bench.load("tabular", tabularTable(300));
    for (const [optimizer, loss, learningRate] of [
      ["sgd", "cross-entropy", 0.5],
      ["rmsprop", "mse", 0.01],
    ] as const) {
      const result = await trainModel({
        dataset,
        template: "mlp",
        seed: 9,
        hyperparameters: { epochs: 10, optimizer, loss, learningRate, hidden: [16], patience: 0 },
        outputDir: join(bench.dataDir, `opt-${optimizer}`),
        checkpoints: false,
      });
      assert.equal(result.hyperparameters.optimizer, optimizer);
      assert.ok((result.metrics.accuracy ?? 0) > 0.85, `${optimizer}/${loss} accuracy ${result.metrics.accuracy}`);
    }
  });
});
