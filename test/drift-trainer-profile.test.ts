import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseReferenceProfile, type ReferenceProfile } from "../src/monitoring/drift/index.js";
import { createModelRegistry } from "../src/training/registry/index.js";
import { trainModel } from "../src/training/trainers/index.js";
import { openTrainingBench, sentimentTable, type TrainingBench, tabularTable } from "./training-helpers.js";

/** The trainer's reference-profile.json for each kind of input, and that the registry accepts it. */
describe("trainer: drift reference profile of the training split", () => {
  let bench: TrainingBench;
  before(async () => {
    bench = await openTrainingBench();
  });
  after(async () => {
    await bench?.close();
  });

  const profileOf = async (directory: string): Promise<ReferenceProfile> =>
    parseReferenceProfile(JSON.parse(await readFile(join(directory, "reference-profile.json"), "utf8")));
  const summaryOf = (profile: ReferenceProfile, name: string) =>
    profile.columns.find((column) => column.name === name)?.summary;
  const register = async (name: string, artifact: string) => {
    const registry = createModelRegistry({
      db: bench.handle.db,
      dialect: bench.handle.dialect,
      dataDir: bench.dataDir,
    });
    return registry.register({ name, artifact });
  };

  test("images: per-image mean and std and every pixel; numeric class labels as categories", async () => {
    const rows: (number | number[])[][] = [];
    for (let i = 0; i < 60; i++) {
      const digit = i % 2;
      rows.push([Array.from({ length: 16 }, (_, p) => ((digit === 0 ? p % 4 < 2 : p % 4 >= 2) ? 200 : 0)), digit]);
    }
    const dataset = await bench.load(
      "blocks",
      { columns: ["image", "label"], rows },
      { label: "label", types: { label: "categorical" }, shapes: { image: [4, 4] } },
    );
    const outputDir = join(bench.dataDir, "cnn");
    const result = await trainModel({
      dataset,
      template: "cnn",
      seed: 6,
      hyperparameters: { epochs: 2, batchSize: 16 },
      outputDir,
      checkpoints: false,
    });
    const profile = await profileOf(outputDir);
    assert.equal(profile.rows, result.split.train);
    assert.deepEqual(profile.features, [{ name: "image", type: "image" }]);
    assert.deepEqual(
      profile.columns.map((column) => column.name),
      ["image.mean", "image.std", "image.pixels", "label"],
    );
    const pixels = summaryOf(profile, "image.pixels");
    assert.equal(pixels?.kind === "numeric" && pixels.count, result.split.train * 16);
    const mean = summaryOf(profile, "image.mean");
    assert.ok(mean?.kind === "numeric" && mean.min === 100 && mean.max === 100, "every image is half 200, half 0");
    const label = summaryOf(profile, "label");
    assert.ok(label?.kind === "categorical");
    assert.ok(
      Object.keys(label.counts).every((key) => key === "0" || key === "1"),
      JSON.stringify(label.counts),
    );
    assert.equal(label.count, result.split.train);
    assert.deepEqual((await register("blocks", outputDir)).referenceProfile?.columns, [
      "image.mean",
      "image.std",
      "image.pixels",
      "label",
    ]);
  });

  test("text: length and vocabulary of the raw training texts", async () => {
    const table = sentimentTable(120);
    const dataset = await bench.load("sentiment", table);
    const outputDir = join(bench.dataDir, "bow");
    const result = await trainModel({ dataset, template: "bow", seed: 1, hyperparameters: { epochs: 2 }, outputDir });
    const profile = await profileOf(outputDir);
    assert.deepEqual(profile.features, [{ name: "text", type: "text" }]);
    const vocabulary = summaryOf(profile, "text.vocabulary");
    assert.ok(vocabulary?.kind === "categorical");
    assert.ok((vocabulary.counts.movie ?? 0) > 0 && (vocabulary.counts.excellent ?? 0) > 0);
    const length = summaryOf(profile, "text.length");
    assert.equal(length?.kind === "numeric" && length.count, result.split.train);
    assert.equal((await register("sentiment", outputDir)).referenceProfile?.source, "artifact");
  });

  test("regression: the predicted values as a numeric `prediction` column", async () => {
    const rows = tabularTable(200, 5).rows.map((row) => {
      const [x1, x2] = row as [number, number];
      return [x1, x2, 3 * x1 - 2 * x2 + 5];
    });
    const dataset = await bench.load("linear", { columns: ["x1", "x2", "target"], rows }, { label: "target" });
    const outputDir = join(bench.dataDir, "linear");
    await trainModel({
      dataset,
      template: "regression",
      seed: 3,
      hyperparameters: { epochs: 30, learningRate: 0.05 },
      outputDir,
      checkpoints: false,
    });
    const profile = await profileOf(outputDir);
    assert.deepEqual(profile.prediction, { name: "prediction", type: "numeric" });
    const prediction = summaryOf(profile, "prediction");
    // y = 3·x1 − 2·x2 + 5 with x in [-1, 1]: predictions of a fitted model stay near [0, 10].
    assert.ok(prediction?.kind === "numeric" && prediction.min > -1 && prediction.max < 11, JSON.stringify(prediction));
    assert.ok(prediction?.kind === "numeric" && Math.abs(prediction.mean - 5) < 1);
    assert.equal((await register("linear", outputDir)).referenceProfile?.rows, profile.rows);
  });
});
