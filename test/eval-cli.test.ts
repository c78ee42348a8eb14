import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { splitVersion } from "../src/training/datasets/dataset-store.js";
import { createSeededRandom } from "../src/training/datasets/seeded-random.js";
import type { DataTable } from "../src/training/datasets/types.js";
import type { VersionEvaluation } from "../src/training/evaluation/evaluate-version.js";
import type { ClassificationReport, RegressionReport } from "../src/training/evaluation/index.js";
import { type CliResult, runCli } from "./helpers/cli.js";
import { openTrainingBench, type TrainingBench, tabularTable } from "./training-helpers.js";

/**
 * `modelport eval` as a user runs it (bin/modelport.js, SQLite in a data dir, tenant `default`):
 * models trained by the real trainer (`modelport train`), registered with `modelport models
 * register`, then evaluated; on the model's own test split eval must reproduce the trainer's
 * recorded evaluation exactly.
 */

/** y = 3·x1 − 2·x2 + 1 in the north, plus a little noise. */
function regressionTable(rows: number, seed = 5): DataTable {
  const random = createSeededRandom(seed);
  const out: DataTable = { columns: ["x1", "x2", "region", "target"], rows: [] };
  for (let i = 0; i < rows; i++) {
    const x1 = random.uniform(-1, 1);
    const x2 = random.uniform(-1, 1);
    const region = i % 2 === 0 ? "north" : "south";
    out.rows.push([x1, x2, region, 3 * x1 - 2 * x2 + (region === "north" ? 1 : 0) + random.uniform(-0.1, 0.1)]);
  }
  return out;
}

interface TrainOutput {
  dataset: string;
  directory: string;
}

function sumMatrices(matrices: number[][][]): number[][] {
  const first = matrices[0] as number[][];
  return first.map((row, i) => row.map((_, j) => matrices.reduce((sum, m) => sum + (m[i]?.[j] as number), 0)));
}

describe("modelport eval", () => {
  let bench: TrainingBench;
  let env: Record<string, string>;
  let tab: TrainOutput;
  let reg: TrainOutput;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, env);
  const json = <T>(result: CliResult): T => {
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };
  const recorded = async (directory: string) =>
    JSON.parse(await readFile(join(directory, "metrics.json"), "utf8")) as {
      report: ClassificationReport | RegressionReport;
      metrics: Record<string, number>;
      split: { train: number; validation: number; test: number };
    };

  before(async () => {
    bench = await openTrainingBench(["ten_default"]);
    await bench.handle.db.updateTable("tenants").set({ name: "default" }).where("id", "=", "ten_default").execute();
    await bench.load("tab", tabularTable(150, 3, 0.05));
    await bench.load("houses", regressionTable(120));
    const withoutX2 = tabularTable(40, 9);
    await bench.load("other", {
      columns: ["x1", "color", "label"],
      rows: withoutX2.rows.map((row) => [row[0], row[2], row[3]] as DataTable["rows"][number]),
    });
    await bench.handle.close();
    env = { MODELPORT_DATA_DIR: bench.dataDir, MODELPORT_DATABASE_URL: "", MODELPORT_MASTER_KEY: "" };

    // Seed 7, not the default 42: eval must take the split seed from the registry's lineage.
    tab = json<TrainOutput>(
      await cli(["train", "--dataset", "tab", "--template", "mlp", "--epochs", "5", "--seed", "7", "--json"]),
    );
    json(
      await cli([
        "models",
        "register",
        "--name",
        "tab-mlp",
        "--artifact",
        tab.directory,
        "--dataset",
        tab.dataset,
        "--split-seed",
        "7",
        "--json",
      ]),
    );
    assert.equal((await cli(["models", "promote", "tab-mlp@1", "--alias", "production"])).code, 0);
    // Registered without --dataset/--split-seed: eval falls back to what the trainer wrote in metrics.json.
    reg = json<TrainOutput>(
      await cli([
        "train",
        "--dataset",
        "houses",
        "--template",
        "regression",
        "--epochs",
        "30",
        "--lr",
        "0.05",
        "--seed",
        "3",
        "--json",
      ]),
    );
    json(await cli(["models", "register", "--name", "houses-reg", "--artifact", reg.directory, "--json"]));
  });

  after(async () => {
    await bench?.close().catch(() => undefined);
  });

  test("the test split reproduces the trainer's recorded evaluation and the registry's metrics", async () => {
    const result = json<VersionEvaluation>(await cli(["eval", "tab-mlp@production", "--dataset", "tab", "--json"]));
    const shown = json<{ metrics: Record<string, number> }>(await cli(["models", "show", "tab-mlp@1", "--json"]));
    const trainer = await recorded(tab.directory);
    assert.equal(result.model, "tab-mlp");
    assert.equal(result.version, 1);
    assert.deepEqual(result.aliases, ["production"]);
    assert.equal(`${result.dataset.name}@${result.dataset.version}`, tab.dataset);
    assert.equal(result.split, "test");
    assert.equal(result.seed, 7);
    assert.equal(result.task, "classification");

    // The same rows the trainer held out, computed here with the trainer's split function.
    const loaded = await (async () => {
      const { openDatabase } = await import("../src/storage/database.js");
      const { createDatasetStore } = await import("../src/training/datasets/dataset-store.js");
      const handle = await openDatabase({ dataDir: bench.dataDir });
      try {
        return await createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir: bench.dataDir }).load(
          "ten_default",
          "tab",
        );
      } finally {
        await handle.close();
      }
    })();
    const split = splitVersion(loaded, { train: 0.7, validation: 0.1, test: 0.2, seed: 7 });
    assert.equal(result.rows, split.test.length);
    assert.equal(result.rows, trainer.split.test);

    assert.deepEqual(result.report, trainer.report, "eval's report is the trainer's, number for number");
    assert.deepEqual(result.metrics, shown.metrics);
    assert.deepEqual(result.registeredMetrics, shown.metrics);
    assert.ok((result.metrics.accuracy as number) >= 0.8, `accuracy ${result.metrics.accuracy}`);

    // Another seed is another test set: no registered metrics to compare with.
    const reseeded = json<VersionEvaluation>(await cli(["eval", "tab-mlp", "--seed", "42", "--json"]));
    assert.equal(reseeded.seed, 42);
    assert.equal(reseeded.registeredMetrics, null);
    const other = splitVersion(loaded, { train: 0.7, validation: 0.1, test: 0.2, seed: 42 });
    assert.notDeepEqual(other.test, split.test);
    assert.equal((reseeded.report as ClassificationReport).count, other.test.length);
  });

  test("--split all and --slice: every row, slices that partition the split", async () => {
    const [all, train, validation, testSplit] = await Promise.all(
      ["all", "train", "validation", "test"].map(async (name) =>
        json<VersionEvaluation>(await cli(["eval", "tab-mlp", "--split", name, "--slice", "color", "--json"])),
      ),
    );
    assert.ok(all && train && validation && testSplit);
    assert.equal(all.rows, 150);
    assert.equal(all.seed, null);
    assert.equal(train.rows + validation.rows + testSplit.rows, 150);
    assert.deepEqual(
      [train.rows, validation.rows, testSplit.rows],
      Object.values((await recorded(tab.directory)).split),
    );
    const matrix = (result: VersionEvaluation) => (result.report as ClassificationReport).confusionMatrix;
    // The three splits are disjoint and cover the data: their confusion matrices add up to all's.
    assert.deepEqual(sumMatrices([matrix(train), matrix(validation), matrix(testSplit)]), matrix(all));

    const slices = all.bySlice?.slices ?? [];
    assert.equal(all.bySlice?.column, "color");
    assert.deepEqual(
      slices.map((slice) => [slice.value, slice.count]),
      [
        ["blue", 50],
        ["green", 50],
        ["red", 50],
      ],
    );
    assert.deepEqual(
      sumMatrices(slices.map((slice) => (slice.metrics as ClassificationReport).confusionMatrix)),
      matrix(all),
    );

    const human = await cli(["eval", "tab-mlp@1", "--slice", "color"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^tab-mlp v1 \[production\] on tab@[0-9a-f]{12}, test split \(seed 7\): 30 rows\n/);
    assert.match(human.stdout, /\nmetric +value +registered\naccuracy +\d\.\d{4} +\d\.\d{4}\n/);
    assert.match(human.stdout, /\nclass +precision +recall +f1 +support\nno +/);
    assert.match(human.stdout, /\nconfusion matrix \(rows: true, columns: predicted\)\ntrue\\pred +no +yes\n/);
    const sliceCounts = (testSplit.bySlice?.slices ?? []).map((slice) => `${slice.value} +${slice.count} `);
    assert.match(
      human.stdout,
      new RegExp(`\\nby color\\ncolor +rows +accuracy +f1 +f1Macro +rocAuc +logLoss\\n${sliceCounts.join(".*\\n")}`),
    );
  });

  test("regression: MSE/RMSE/MAE/R² on the test split from the trainer's metrics.json lineage", async () => {
    const result = json<VersionEvaluation>(await cli(["eval", "houses-reg", "--json"]));
    const trainer = await recorded(reg.directory);
    assert.equal(result.task, "regression");
    assert.equal(
      `${result.dataset.name}@${result.dataset.version}`,
      reg.dataset,
      "the dataset version from metrics.json",
    );
    assert.equal(result.seed, 3, "the seed from metrics.json");
    assert.equal(result.rows, trainer.split.test);
    assert.deepEqual(result.report, trainer.report);
    assert.deepEqual(result.registeredMetrics, trainer.metrics);
    assert.deepEqual(Object.keys(result.metrics), ["mse", "rmse", "mae", "r2"]);

    const sliced = await cli(["eval", "houses-reg", "--slice", "region"]);
    assert.equal(sliced.code, 0, sliced.stderr);
    assert.match(sliced.stdout, /\nmetric +value +registered\nmse +/);
    assert.doesNotMatch(sliced.stdout, /confusion matrix/);
    assert.match(sliced.stdout, /\nby region\nregion +rows +rmse +mae +r2\nnorth +\d+ +\d\.\d{4} .*\nsouth +\d+ +/);

    // A newer version of the data: eval says its test split is not the model's held-out set.
    const csv = join(bench.dataDir, "houses-v2.csv");
    const fresh = regressionTable(60, 11);
    await writeFile(csv, [fresh.columns, ...fresh.rows].map((row) => row.join(",")).join("\n"));
    assert.equal((await cli(["datasets", "import", "houses", "--csv", csv])).code, 0);
    const newer = await cli(["eval", "houses-reg", "--dataset", "houses", "--json"]);
    const onNewer = json<VersionEvaluation>(newer);
    assert.notEqual(onNewer.dataset.version, result.dataset.version);
    assert.equal(onNewer.rows, 12);
    assert.equal(onNewer.registeredMetrics, null);
    assert.match(
      newer.stderr,
      /^modelport: note: houses-reg v1 was trained on houses@[0-9a-f]{12}; the test split of another dataset version may hold rows it was trained on\n/,
    );
  });

  test("errors: unknown model, version, alias, dataset (1); dataset without the model's inputs (1); bad flags (2)", async () => {
    const cases: [string[], number, RegExp][] = [
      [["eval", "nope"], 1, /^modelport: MP_NOT_FOUND: model nope is not registered/],
      [["eval", "tab-mlp@9"], 1, /^modelport: MP_NOT_FOUND: model tab-mlp has no version 9/],
      [["eval", "tab-mlp@staging"], 1, /^modelport: MP_NOT_FOUND: model tab-mlp has no alias 'staging'/],
      [["eval", "tab-mlp", "--dataset", "missing"], 1, /^modelport: MP_NOT_FOUND: no dataset named 'missing'/],
      [
        ["eval", "tab-mlp", "--dataset", "tab@abcd0000"],
        1,
        /^modelport: MP_NOT_FOUND: dataset 'tab' has no version 'abcd0000'/,
      ],
      [
        ["eval", "tab-mlp", "--dataset", "other"],
        1,
        /^modelport: MP_INVALID_REQUEST: dataset other@[0-9a-f]{12} has no column 'x2', an input of tab-mlp v1/,
      ],
      [["eval", "tab-mlp", "--slice", "size"], 1, /^modelport: MP_INVALID_REQUEST: .*no column 'size' to slice by/],
      [["eval", "tab-mlp", "--split", "holdout"], 2, /argument 'holdout' is invalid/],
      [["eval", "tab-mlp", "--seed", "-1"], 2, /--seed <n>.*expected a non-negative integer/],
      [["eval", "Tab Mlp"], 2, /usage error: model name 'Tab Mlp'/],
      [["eval", "tab-mlp", "--dataset", "tab@xyz"], 2, /usage error: 'tab@xyz': the version must be 4–64 hex digits/],
      [["eval"], 2, /missing required argument 'model'/],
      // --tenant reads that tenant's models; tab-mlp is an operator (global) model.
      [["eval", "tab-mlp", "--tenant", "default"], 1, /^modelport: MP_NOT_FOUND: model tab-mlp is not registered/],
      [["eval", "tab-mlp", "--tenant", "acme"], 1, /^modelport: MP_NOT_FOUND: no tenant 'acme'/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      const [args, code, stderr] = cases[i] as [string[], number, RegExp];
      assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, stderr, args.join(" "));
      assert.equal(result.stdout, "", `${args.join(" ")} prints nothing on stdout`);
    });
  });
});
