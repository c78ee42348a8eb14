import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "./helpers/cli.js";

/**
 * `modelport drift` end to end through the real command line: CONTRACT.md's report shape, the
 * default test per column, numbers equal to SciPy's (fixtures from scripts/vectors/drift_vectors.py),
 * exit codes and one-line errors.
 */
interface NumericCase {
  name: string;
  reference: number[];
  current: number[];
  ks: { statistic: number; pValue: number };
  psi: number;
}
interface CategoricalCase {
  name: string;
  reference: string[];
  current: string[];
  chi2: { statistic: number; pValue: number };
  z: { statistic: number; pValue: number };
}

const fixtures = new URL("../src/monitoring/drift/fixtures/", import.meta.url);
const load = async <T>(name: string) =>
  (JSON.parse(await readFile(new URL(name, fixtures), "utf8")) as { cases: T[] }).cases;

function csv(columns: Record<string, (string | number)[]>): string {
  const names = Object.keys(columns);
  const rows = Math.max(...names.map((name) => columns[name]?.length ?? 0));
  const lines = [names.join(",")];
  for (let i = 0; i < rows; i++) lines.push(names.map((name) => String(columns[name]?.[i] ?? "")).join(","));
  return `${lines.join("\n")}\n`;
}

const relativeClose = (actual: number, expected: number, rtol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= 1e-300 + rtol * Math.abs(expected), `${actual} vs SciPy ${expected}`);

describe("modelport drift", () => {
  let dir: string;
  let referencePath: string;
  let currentPath: string;
  let numeric: NumericCase;
  let categorical: CategoricalCase;
  let binary: CategoricalCase;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-drift-"));
    numeric = (await load<NumericCase>("numeric-tests.json")).find(
      (c) => c.name === "small-equal-sizes",
    ) as NumericCase;
    const cats = await load<CategoricalCase>("categorical-tests.json");
    categorical = cats.find((c) => c.name === "cats-5") as CategoricalCase;
    binary = cats.find((c) => c.name === "binary") as CategoricalCase;
    // Columns of different lengths: the shorter ones end in empty cells, which are missing values.
    referencePath = join(dir, "reference.csv");
    currentPath = join(dir, "current.csv");
    await writeFile(
      referencePath,
      csv({ amount: numeric.reference, city: categorical.reference, answer: binary.reference }),
    );
    await writeFile(currentPath, csv({ amount: numeric.current, city: categorical.current, answer: binary.current }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints CONTRACT's JSON with Evidently's default test per column and SciPy's numbers", async () => {
    const result = await runCli(["drift", "--reference", referencePath, "--current", currentPath, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(report).sort(), ["columns", "datasetDrift", "driftShare"]);
    for (const column of report.columns) {
      assert.deepEqual(Object.keys(column).sort(), [
        "drift",
        "name",
        "pValue",
        "statistic",
        "test",
        "threshold",
        "type",
      ]);
    }
    const [amount, city, answer] = report.columns;
    assert.deepEqual([amount.name, amount.type, amount.test], ["amount", "numeric", "ks"]);
    relativeClose(amount.statistic, numeric.ks.statistic);
    relativeClose(amount.pValue, numeric.ks.pValue);
    assert.equal(amount.threshold, 0.05);
    assert.equal(amount.drift, numeric.ks.pValue <= 0.05);
    assert.deepEqual([city.name, city.type, city.test], ["city", "categorical", "chi2"]);
    relativeClose(city.pValue, categorical.chi2.pValue);
    relativeClose(city.statistic, categorical.chi2.statistic);
    assert.deepEqual([answer.test, answer.type], ["z", "categorical"]);
    relativeClose(answer.pValue, binary.z.pValue);
    const drifted = report.columns.filter((column: { drift: boolean }) => column.drift).length;
    assert.equal(report.driftShare, drifted / 3);
    assert.equal(report.datasetDrift, drifted / 3 >= 0.5);
  });

  it("runs one named test on every column, with pValue null for a distance", async () => {
    const result = await runCli([
      "drift",
      "--reference",
      referencePath,
      "--current",
      currentPath,
      "--test",
      "psi",
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(
      report.columns.map((column: { test: string }) => column.test),
      ["psi", "psi", "psi"],
    );
    relativeClose(report.columns[0].statistic, numeric.psi);
    assert.equal(report.columns[0].pValue, null);
    assert.equal(report.columns[0].threshold, 0.1);
  });

  it("prints a readable table and exits 0 even when the dataset drifted", async () => {
    const shifted = join(dir, "shifted.csv");
    await writeFile(
      shifted,
      csv({
        amount: numeric.current.map((value) => value + 5),
        city: categorical.current.map(() => "a"),
        answer: binary.current,
      }),
    );
    const result = await runCli(["drift", "--reference", referencePath, "--current", shifted]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^column\s+type\s+test\s+statistic\s+p-value\s+threshold\s+drift/m);
    assert.match(result.stdout, /^amount\s+numeric\s+ks\s+1\s+\S+\s+0\.05\s+DRIFT/m);
    assert.match(result.stdout, /dataset drift: yes/);
    const failing = await runCli(["drift", "--reference", referencePath, "--current", shifted, "--fail-on-drift"]);
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /MP_DRIFT_DETECTED: dataset drift: [23] of 3 columns drifted/);
    const same = await runCli(["drift", "--reference", referencePath, "--current", referencePath, "--fail-on-drift"]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /0 of 3 columns drifted .*dataset drift: no/);
  });

  it("fails with one clear line for missing files, different columns, empty data and wrong tests", async () => {
    const missing = await runCli(["drift", "--reference", join(dir, "nope.csv"), "--current", currentPath]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^modelport: MP_NOT_FOUND: reference file .*nope\.csv does not exist\n$/);

    const other = join(dir, "other.csv");
    await writeFile(other, csv({ amount: [1, 2, 3], colour: ["r", "g", "b"], answer: ["yes", "no", "yes"] }));
    const mismatch = await runCli(["drift", "--reference", referencePath, "--current", other]);
    assert.equal(mismatch.code, 1);
    assert.match(
      mismatch.stderr,
      /MP_INVALID_REQUEST: the files have different columns \(missing in .*other\.csv: city; missing in .*reference\.csv: colour\)/,
    );

    const empty = join(dir, "empty.csv");
    await writeFile(empty, "amount,city,answer\n");
    const noRows = await runCli(["drift", "--reference", referencePath, "--current", empty]);
    assert.equal(noRows.code, 1);
    assert.match(noRows.stderr, /has no data rows/);

    const blank = join(dir, "blank.csv");
    await writeFile(blank, "amount,city,answer\n,,\n,,\n");
    const noValues = await runCli(["drift", "--reference", referencePath, "--current", blank]);
    assert.equal(noValues.code, 1);
    assert.match(noValues.stderr, /column 'amount' has no values in the current data/);

    const ksOnCategories = await runCli([
      "drift",
      "--reference",
      referencePath,
      "--current",
      currentPath,
      "--test",
      "ks",
    ]);
    assert.equal(ksOnCategories.code, 1);
    assert.match(ksOnCategories.stderr, /test 'ks' needs a numeric column; 'city' is categorical/);

    const unknownTest = await runCli(["drift", "--reference", referencePath, "--current", currentPath, "--test", "t"]);
    assert.equal(unknownTest.code, 2);
    assert.match(unknownTest.stderr, /expected one of ks, chi2, z, wasserstein_norm, jensenshannon, psi/);

    const noCurrent = await runCli(["drift", "--reference", referencePath]);
    assert.equal(noCurrent.code, 2);
  });
});
