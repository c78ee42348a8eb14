import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { fileSaveHandler } from "../src/runtimes/tfjs/file-io.js";
import { ensureWasmBackend } from "../src/runtimes/tfjs/wasm-backend.js";
import { fitPreprocessor, type Preprocessor } from "../src/training/preprocessing/index.js";

/**
 * Registry test artifacts built the way the trainer writes them: a tfjs layers model over the
 * features of a fitted preprocessor, with signature.json, preprocessor.json and metrics.json.
 * The model is one softmax layer with chosen weights, so expected outputs are computed here.
 */

export const spamTrainingRows = [
  ["win free money now", "spam"],
  ["free offer click now", "spam"],
  ["meeting at noon tomorrow", "ham"],
  ["lunch tomorrow at noon", "ham"],
] as const;

export function fitSpamPreprocessor(): Preprocessor {
  return fitPreprocessor(
    { columns: ["text", "label"], rows: spamTrainingRows.map((row) => [...row]) },
    {
      steps: [{ kind: "bag-of-words", column: "text", maxTokens: 6, mode: "binary" }],
      label: { column: "label", task: "classification" },
    },
  );
}

export const spamSignature = {
  inputs: [{ name: "text", datatype: "BYTES", shape: [-1] }],
  outputs: [
    { name: "label", datatype: "BYTES", shape: [-1] },
    { name: "probabilities", datatype: "FP32", shape: [-1, 2] },
  ],
  task: "classification",
  labels: ["ham", "spam"],
};

/** Weights [width, 2] and bias [2]; `flip` swaps the classes (a visibly different version). */
export function spamWeights(preprocessor: Preprocessor, flip = false): { weight: number[][]; bias: number[] } {
  const spec = preprocessor.spec.steps[0];
  const vocabulary = spec?.kind === "bag-of-words" ? spec.vocabulary : [];
  const spammy = new Set(["free", "money", "now", "offer", "win", "click"]);
  const weight = vocabulary.map((term) => (spammy.has(term) ? [-1, 1.5] : [1.25, -0.5]));
  const bias = [0.1, -0.1];
  return flip
    ? { weight: weight.map(([a, b]) => [b as number, a as number]), bias: [bias[1] as number, bias[0] as number] }
    : { weight, bias };
}

/** softmax(xW + b) in float64. */
export function expectedProbabilities(
  features: Float32Array,
  width: number,
  weights: { weight: number[][]; bias: number[] },
): number[][] {
  const rows: number[][] = [];
  for (let row = 0; row < features.length / width; row++) {
    const logits = weights.bias.map((b, column) => {
      let sum = b;
      for (let i = 0; i < width; i++) sum += (features[row * width + i] as number) * (weights.weight[i]?.[column] ?? 0);
      return sum;
    });
    const max = Math.max(...logits);
    const exps = logits.map((value) => Math.exp(value - max));
    const total = exps.reduce((a, b) => a + b, 0);
    rows.push(exps.map((value) => value / total));
  }
  return rows;
}

export async function writeSpamArtifact(
  directory: string,
  options: { flip?: boolean; metrics?: Record<string, unknown> } = {},
): Promise<{ preprocessor: Preprocessor; weights: { weight: number[][]; bias: number[] } }> {
  await ensureWasmBackend();
  await mkdir(directory, { recursive: true });
  const preprocessor = fitSpamPreprocessor();
  const weights = spamWeights(preprocessor, options.flip);
  const model = tfl.sequential({ name: "spam_bow" });
  model.add(tfl.layers.inputLayer({ inputShape: [preprocessor.width], name: "features" }));
  model.add(tfl.layers.dense({ units: 2, activation: "softmax", name: "probabilities" }));
  const kernel = tf.tensor2d(weights.weight, [preprocessor.width, 2]);
  const bias = tf.tensor1d(weights.bias);
  model.setWeights([kernel, bias]);
  tf.dispose([kernel, bias]);
  try {
    await model.save(fileSaveHandler(directory));
  } finally {
    model.dispose();
  }
  await writeFile(join(directory, "preprocessor.json"), JSON.stringify(preprocessor.toJSON()));
  await writeFile(join(directory, "signature.json"), JSON.stringify(spamSignature));
  await writeFile(
    join(directory, "metrics.json"),
    JSON.stringify(
      options.metrics ?? {
        accuracy: 0.97,
        f1: 0.95,
        report: {
          confusion: [
            [1, 0],
            [0, 1],
          ],
        },
      },
    ),
  );
  return { preprocessor, weights };
}
