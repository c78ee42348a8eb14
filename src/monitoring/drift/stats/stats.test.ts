import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type ColumnPair, runDriftTest } from "../column-test.js";
import { chiSquareSf, gammaincc, logGamma } from "../special/gamma.js";
import { kolmogorovSmirnovSf, smirnovSf } from "../special/kolmogorov.js";
import { normalCdf } from "../special/normal.js";
import { ks2samp, roundHalfEven } from "./ks.js";
import { supportOf } from "./support.js";
import { wassersteinDistance } from "./wasserstein.js";

/**
 * Every statistic against SciPy on the same inputs (fixtures from scripts/vectors/drift_vectors.py).
 * Tolerances: 1e-12 relative for p-values, distances and special functions, which is what the
 * ports reach (worst seen: 1.2e-12 for kstwo at n=100, x=0.2, 7e-14 for the smirnov sum,
 * 3e-14 for χ², 2e-16 for Φ); 1e-15 absolute where a value is near zero.
 */
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8")).cases as never[];
const decode = (value: number | string): number =>
  value === "NaN" ? Number.NaN : value === "Infinity" ? Number.POSITIVE_INFINITY : (value as number);

function close(actual: number | null, expectedRaw: number | string, label: string, rtol = 1e-12, atol = 1e-15) {
  const expected = decode(expectedRaw);
  const value = actual ?? Number.NaN;
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(value) || actual === null, `${label}: expected NaN`);
  if (!Number.isFinite(expected))
    return assert.ok(actual === null || value === expected, `${label}: expected ${expected}`);
  const error = Math.abs(value - expected);
  assert.ok(error <= atol + rtol * Math.abs(expected), `${label}: got ${value}, SciPy ${expected} (error ${error})`);
}

interface NumericCase {
  name: string;
  reference: number[];
  current: number[];
  integral: boolean;
  ks: { statistic: number; pValue: number };
  wasserstein: number;
  wassersteinNorm: number;
  referenceStd: number;
  jensenshannon: number;
  psi: number;
  chi2?: { statistic: number | string; pValue: number | string };
  z?: { statistic: number | string; pValue: number | string };
}

function numericPair(c: NumericCase): ColumnPair {
  return {
    name: c.name,
    reference: { kind: "numeric", support: supportOf(c.reference), integral: c.integral },
    current: { kind: "numeric", support: supportOf(c.current), integral: c.integral },
  };
}

describe("special functions equal SciPy's", () => {
  const cases = fixture("special-functions.json") as unknown as {
    kstwoSf: { n: number; x: number; sf: number }[];
    smirnovSf: { n: number; x: number; sf: number }[];
    chi2Sf: { df: number; x: number; sf: number | string }[];
    normalCdf: { x: number; cdf: number }[];
  };
  it("kstwo.sf on every branch (Ruben–Gambino, Durbin, Pomeranz, Pelz–Good, smirnov)", () => {
    assert.ok(cases.kstwoSf.length > 300);
    for (const c of cases.kstwoSf)
      close(kolmogorovSmirnovSf(c.n, c.x), c.sf, `kstwo.sf(${c.x}, ${c.n})`, 5e-12, 1e-300);
  });
  it("smirnov (one-sided tail) from n=2 to n=200000", () => {
    for (const c of cases.smirnovSf) close(smirnovSf(c.n, c.x), c.sf, `smirnov(${c.n}, ${c.x})`, 1e-12, 1e-300);
  });
  it("chi2.sf for 1 to 5000 degrees of freedom", () => {
    for (const c of cases.chi2Sf) close(chiSquareSf(c.x, c.df), c.sf, `chi2.sf(${c.x}, ${c.df})`, 1e-12, 1e-300);
  });
  it("norm.cdf from -40 to 40", () => {
    for (const c of cases.normalCdf) close(normalCdf(c.x), c.cdf, `norm.cdf(${c.x})`, 1e-15, 1e-300);
  });
  it("handles the domain edges", () => {
    assert.equal(gammaincc(2, 0), 1);
    assert.equal(gammaincc(2, Number.POSITIVE_INFINITY), 0);
    assert.ok(Number.isNaN(gammaincc(-1, 2)));
    assert.ok(Number.isNaN(chiSquareSf(3, 0)), "zero degrees of freedom");
    assert.equal(kolmogorovSmirnovSf(10, 0), 1);
    assert.equal(kolmogorovSmirnovSf(10, 1), 0);
    assert.ok(Number.isNaN(kolmogorovSmirnovSf(2.5, 0.3)));
    assert.ok(Math.abs(logGamma(10) - Math.log(362880)) < 1e-13);
    assert.equal(roundHalfEven(2.5), 2);
    assert.equal(roundHalfEven(3.5), 4);
  });
});

describe("numeric drift tests equal SciPy and Evidently's formulas", () => {
  const cases = fixture("numeric-tests.json") as unknown as NumericCase[];
  for (const c of cases) {
    it(c.name, () => {
      const pair = numericPair(c);
      const ks = ks2samp(
        pair.reference.kind === "numeric" ? pair.reference.support : supportOf([]),
        supportOf(c.current),
      );
      close(ks.statistic, c.ks.statistic, "ks statistic", 1e-14);
      close(ks.pValue, c.ks.pValue, "ks p-value", 1e-12, 1e-300);
      close(wassersteinDistance(supportOf(c.reference), supportOf(c.current)), c.wasserstein, "wasserstein", 1e-12);
      close(runDriftTest("wasserstein_norm", pair).statistic, c.wassersteinNorm, "wasserstein_norm", 1e-12);
      close(runDriftTest("jensenshannon", pair).statistic, c.jensenshannon, "jensenshannon", 1e-12);
      close(runDriftTest("psi", pair).statistic, c.psi, "psi", 1e-12);
      if (c.chi2) {
        const chi2 = runDriftTest("chi2", pair);
        close(chi2.statistic, c.chi2.statistic, "chi2 statistic");
        close(chi2.pValue, c.chi2.pValue, "chi2 p-value", 1e-12, 1e-300);
      }
      if (c.z) {
        const z = runDriftTest("z", pair);
        close(z.statistic, c.z.statistic, "z statistic");
        close(z.pValue, c.z.pValue, "z p-value", 1e-12, 1e-15);
      }
    });
  }
  it("switches from the exact to the asymptotic p-value above 10,000 values, as SciPy's 'auto'", () => {
    const exact = cases.find((c) => c.name === "uneven-exact") as NumericCase;
    const asymp = cases.find((c) => c.name === "asymp-ref-800-cur-20000") as NumericCase;
    assert.equal(ks2samp(supportOf(exact.reference), supportOf(exact.current)).method, "exact");
    assert.equal(ks2samp(supportOf(asymp.reference), supportOf(asymp.current)).method, "asymp");
  });
  it("rejects an empty sample and a categorical column for KS", () => {
    assert.throws(() => ks2samp(supportOf([]), supportOf([1, 2])), RangeError);
    const pair: ColumnPair = {
      name: "city",
      reference: { kind: "categorical", counts: new Map([["a", 3]]) },
      current: { kind: "categorical", counts: new Map([["b", 3]]) },
    };
    assert.throws(() => runDriftTest("ks", pair), /needs a numeric column; 'city' is categorical/);
    assert.throws(() => runDriftTest("wasserstein_norm", pair), /MP_INVALID_REQUEST|numeric column/);
    const empty: ColumnPair = { ...pair, current: { kind: "categorical", counts: new Map() } };
    assert.throws(() => runDriftTest("chi2", empty), /no values in the current data/);
  });
});

describe("categorical drift tests equal SciPy and Evidently's formulas", () => {
  const cases = fixture("categorical-tests.json") as unknown as {
    name: string;
    reference: string[];
    current: string[];
    chi2: { statistic: number | string; pValue: number | string };
    z: { statistic: number | string; pValue: number | string };
    jensenshannon: number;
    psi: number;
  }[];
  const counts = (values: string[]) => {
    const map = new Map<string, number>();
    for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
    return map;
  };
  for (const c of cases) {
    it(c.name, () => {
      const pair: ColumnPair = {
        name: c.name,
        reference: { kind: "categorical", counts: counts(c.reference) },
        current: { kind: "categorical", counts: counts(c.current) },
      };
      const chi2 = runDriftTest("chi2", pair);
      close(chi2.statistic, c.chi2.statistic, "chi2 statistic");
      close(chi2.pValue, c.chi2.pValue, "chi2 p-value", 1e-12, 1e-300);
      const z = runDriftTest("z", pair);
      close(z.statistic, c.z.statistic, "z statistic");
      close(z.pValue, c.z.pValue, "z p-value", 1e-12, 1e-15);
      close(runDriftTest("jensenshannon", pair).statistic, c.jensenshannon, "jensenshannon");
      close(runDriftTest("psi", pair).statistic, c.psi, "psi");
    });
  }
});
