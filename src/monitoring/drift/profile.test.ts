import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type ColumnPair, defaultTestFor } from "./column-test.js";
import { compareProfiles } from "./compare.js";
import { createProfileBuilder, parseReferenceProfile } from "./profile.js";
import { driftReport } from "./report.js";
import { supportOf } from "./stats/support.js";
import { createDriftWindow } from "./window.js";

interface NumericCase {
  name: string;
  reference: number[];
  current: number[];
  integral: boolean;
  ks: { statistic: number; pValue: number };
  wassersteinNorm: number;
  referenceStd: number;
  defaultTest: string;
}
interface CategoricalCase {
  name: string;
  reference: string[];
  current: string[];
  defaultTest: string;
  chi2: { pValue: number };
}
const load = <T>(name: string) =>
  (JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as { cases: T[] }).cases;
const numericCases = load<NumericCase>("numeric-tests.json");
const categoricalCases = load<CategoricalCase>("categorical-tests.json");
const numericCase = (name: string) => numericCases.find((c) => c.name === name) as NumericCase;
const counts = (values: string[]) => {
  const map = new Map<string, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
};

function rowsOf(columns: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  const length = Math.max(...Object.values(columns).map((values) => values.length));
  return Array.from({ length }, (_, i) => Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v[i]])));
}

describe("Evidently's default test choice", () => {
  it("matches registry.py's _get_default_stattest on every fixture", () => {
    for (const c of numericCases) {
      const pair: ColumnPair = {
        name: c.name,
        reference: { kind: "numeric", support: supportOf(c.reference), integral: c.integral },
        current: { kind: "numeric", support: supportOf(c.current), integral: c.integral },
      };
      assert.equal(defaultTestFor(pair), c.defaultTest, c.name);
    }
    for (const c of categoricalCases) {
      const pair: ColumnPair = {
        name: c.name,
        reference: { kind: "categorical", counts: counts(c.reference) },
        current: { kind: "categorical", counts: counts(c.current) },
      };
      assert.equal(defaultTestFor(pair), c.defaultTest, c.name);
    }
  });
  it("covers all four outcomes and the dataset rule (share ≥ 0.5)", () => {
    const seen = new Set([...numericCases, ...categoricalCases].map((c) => c.defaultTest));
    assert.deepEqual([...seen].sort(), ["chi2", "jensenshannon", "ks", "wasserstein_norm", "z"]);
    const pair = (name: string, reference: string[], current: string[]): ColumnPair => ({
      name,
      reference: { kind: "categorical", counts: counts(reference) },
      current: { kind: "categorical", counts: counts(current) },
    });
    const same = Array.from({ length: 100 }, (_, i) => (i % 3 ? "a" : "b"));
    const moved = Array.from({ length: 100 }, (_, i) => (i % 3 ? "b" : "a"));
    const half = driftReport([pair("x", same, moved), pair("y", same, same)]);
    assert.equal(half.driftShare, 0.5);
    assert.equal(half.datasetDrift, true, "exactly half the columns is dataset drift");
    const third = driftReport([pair("x", same, moved), pair("y", same, same), pair("z", same, same)]);
    assert.equal(third.datasetDrift, false);
    assert.equal(
      driftReport([pair("x", same, moved), pair("y", same, same)], { driftShare: 0.75 }).datasetDrift,
      false,
    );
  });
});

describe("reference profiles and live windows", () => {
  const c = numericCase("shifted-1000");
  const cats = categoricalCases.find((x) => x.name === "cats-5") as CategoricalCase;
  const spec = {
    features: [
      { name: "amount", type: "numeric" as const },
      { name: "city", type: "categorical" as const },
    ],
  };
  function build(reference: Record<string, readonly unknown[]>, current: Record<string, readonly unknown[]>) {
    const builder = createProfileBuilder(spec);
    for (const row of rowsOf(reference)) builder.addRow(row);
    const profile = parseReferenceProfile(JSON.parse(JSON.stringify(builder.finish())));
    const window = createDriftWindow(profile);
    for (const row of rowsOf(current)) window.addRow(row);
    return { profile, window };
  }

  it("give the same report as the raw data when both sides are exact", () => {
    const { profile, window } = build(
      { amount: c.reference, city: cats.reference },
      { amount: c.current.slice(0, 60), city: cats.current },
    );
    assert.equal(profile.rows, 1000);
    const amount = profile.columns[0]?.summary;
    assert.ok(amount?.kind === "numeric" && amount.exact && amount.count === 1000);
    assert.ok(Math.abs(amount.std - c.referenceStd) <= 1e-12 * c.referenceStd, "np.std, ddof 0");
    const fromProfiles = compareProfiles(profile, window.snapshot());
    const raw = driftReport([
      {
        name: "amount",
        reference: { kind: "numeric", support: supportOf(c.reference), integral: false },
        current: { kind: "numeric", support: supportOf(c.current.slice(0, 60)), integral: false },
      },
      {
        name: "city",
        reference: { kind: "categorical", counts: counts(cats.reference) },
        current: { kind: "categorical", counts: counts(cats.current) },
      },
    ]);
    assert.deepEqual(
      { columns: fromProfiles.columns, driftShare: fromProfiles.driftShare, datasetDrift: fromProfiles.datasetDrift },
      raw,
    );
    assert.deepEqual(fromProfiles.approximateColumns, []);
    assert.equal(fromProfiles.columns[0]?.test, "ks");
    const chi2 = fromProfiles.columns[1]?.pValue ?? 0;
    assert.ok(Math.abs(chi2 - cats.chi2.pValue) <= 1e-12 * cats.chi2.pValue, "χ² p equals SciPy's");
  });

  it("keep KS exact after the window stops remembering new values, and flag what is approximate", () => {
    const { profile, window } = build({ amount: c.reference, city: cats.reference }, { amount: c.current, city: [] });
    const snapshot = window.snapshot();
    const amountWindow = snapshot.columns[0]?.summary;
    assert.ok(amountWindow?.kind === "numeric" && amountWindow.extra === null, "window overflowed its exact list");
    const report = compareProfiles(profile, snapshot);
    const [amount] = report.columns;
    assert.equal(amount?.test, "ks");
    assert.ok(Math.abs((amount?.statistic ?? 0) - c.ks.statistic) <= 1e-14, "D equals SciPy's");
    assert.ok(Math.abs((amount?.pValue ?? 0) - c.ks.pValue) <= 1e-12 * c.ks.pValue, "p equals SciPy's");
    assert.deepEqual(report.skippedColumns, ["city"], "no categories seen in the window");
    const wasserstein = compareProfiles(profile, snapshot, { test: "wasserstein_norm" });
    // 1000 values over 2001 cells: every cell holds ≤ 3 values, which the window keeps exactly.
    assert.ok(Math.abs((wasserstein.columns[0]?.statistic ?? 0) - c.wassersteinNorm) < 1e-12 * c.wassersteinNorm);
    assert.deepEqual(wasserstein.approximateColumns, ["amount"]);
  });

  it("summarise a large reference in bounded space with the standard deviation still exact", () => {
    const large = numericCase("large-continuous");
    const builder = createProfileBuilder({ features: [{ name: "x", type: "numeric" }], maxSupport: 512 });
    builder.addColumns({ x: Float64Array.from(large.reference) });
    const profile = builder.finish();
    const summary = profile.columns[0]?.summary;
    assert.ok(summary?.kind === "numeric" && !summary.exact);
    assert.ok(summary.support.values.length <= 512);
    assert.equal(summary.support.values[0], Math.min(...large.reference));
    assert.equal(summary.support.values.at(-1), Math.max(...large.reference));
    assert.ok(Math.abs(summary.std - large.referenceStd) <= 1e-9 * large.referenceStd);
    const window = createDriftWindow(profile);
    window.addColumns({ x: Float64Array.from(large.current) });
    const report = compareProfiles(profile, window.snapshot());
    assert.equal(report.columns[0]?.test, "wasserstein_norm");
    const got = report.columns[0]?.statistic ?? 0;
    assert.ok(
      Math.abs(got - large.wassersteinNorm) < 0.01 * large.wassersteinNorm,
      `${got} vs ${large.wassersteinNorm}`,
    );
    assert.equal(report.columns[0]?.drift, large.wassersteinNorm >= 0.1);
    assert.deepEqual(report.approximateColumns, ["x"]);
  });

  it("restore a window from its snapshot and continue where it stopped", () => {
    const { profile } = build({ amount: c.reference, city: cats.reference }, { amount: [], city: [] });
    const whole = createDriftWindow(profile);
    const first = createDriftWindow(profile);
    const rows = rowsOf({ amount: c.current, city: cats.current });
    for (const row of rows) whole.addRow(row);
    for (const row of rows.slice(0, 300)) first.addRow(row);
    const resumed = createDriftWindow(profile, JSON.parse(JSON.stringify(first.snapshot())));
    for (const row of rows.slice(300)) resumed.addRow(row);
    assert.equal(resumed.rows, whole.rows);
    assert.deepEqual(compareProfiles(profile, resumed.snapshot()), compareProfiles(profile, whole.snapshot()));
  });

  it("profile text, images and predictions as derived columns that detect a shift", () => {
    const words = ["offer", "meeting", "invoice", "lunch", "project", "free", "winner", "report"];
    const text = (i: number, shift: number) =>
      Array.from({ length: 5 + (i % 7) + shift }, (_, j) => words[(i + j * 3 + shift * 5) % words.length]).join(" ");
    const image = (i: number, brightness: number) =>
      Array.from({ length: 16 }, (_, j) => (((i * 7 + j) % 10) / 10) * brightness);
    const builder = createProfileBuilder({
      features: [
        { name: "body", type: "text" },
        { name: "digit", type: "image" },
      ],
      prediction: { name: "label", type: "categorical" },
    });
    for (let i = 0; i < 400; i++)
      builder.addRow({ body: text(i, 0), digit: image(i, 1), label: i % 4 ? "ham" : "spam" });
    const profile = builder.finish();
    assert.deepEqual(
      profile.columns.map((column) => [column.name, column.summary.kind, column.role]),
      [
        ["body.length", "numeric", "feature"],
        ["body.vocabulary", "categorical", "feature"],
        ["digit.mean", "numeric", "feature"],
        ["digit.std", "numeric", "feature"],
        ["digit.pixels", "numeric", "feature"],
        ["label", "categorical", "prediction"],
      ],
    );
    const calm = createDriftWindow(profile);
    const shifted = createDriftWindow(profile);
    for (let i = 0; i < 400; i++) {
      calm.addRow({ body: text(i + 1, 0), digit: image(i + 1, 1), label: i % 4 ? "ham" : "spam" });
      shifted.addRow({ body: `${text(i, 4)} bitcoin`, digit: image(i, 0.5), label: i % 2 ? "ham" : "spam" });
    }
    const quiet = compareProfiles(profile, calm.snapshot());
    assert.equal(quiet.datasetDrift, false, JSON.stringify(quiet.columns));
    const loud = compareProfiles(profile, shifted.snapshot());
    const drifted = Object.fromEntries(loud.columns.map((column) => [column.name, column.drift]));
    assert.equal(loud.datasetDrift, true);
    assert.equal(drifted["digit.mean"], true);
    assert.equal(drifted["body.length"], true);
    assert.equal(drifted.label, true, "the prediction distribution moved");
    const vocabulary = shifted.snapshot().columns.find((column) => column.name === "body.vocabulary")?.summary;
    assert.ok(vocabulary?.kind === "categorical" && (vocabulary.counts["<other>"] ?? 0) === 400, "unknown words");
  });

  it("rejects bad specs, foreign JSON and incomplete batches", () => {
    assert.throws(
      () =>
        createProfileBuilder({
          features: [
            { name: "a", type: "numeric" },
            { name: "a", type: "categorical" },
          ],
        }),
      /listed twice/,
    );
    assert.throws(() => createProfileBuilder({ features: [{ name: "a", type: "audio" as "text" }] }), /unknown type/);
    assert.throws(() => parseReferenceProfile({ columns: [] }), /not a modelport drift profile/);
    const builder = createProfileBuilder({
      features: [
        { name: "a", type: "numeric" },
        { name: "b", type: "numeric" },
      ],
    });
    assert.throws(() => builder.addColumns({ a: [1, 2] }), /no column 'b'/);
    assert.throws(() => builder.addColumns({ a: [1, 2], b: [1] }), /has 1 rows, expected 2/);
  });
});
