#!/usr/bin/env python3
"""Reference vectors for Modelport's drift tests (src/monitoring/drift/fixtures/*.json).

Run from the repository root: `python3 scripts/vectors/drift_vectors.py` (numpy + scipy; the
fixtures committed were made with scipy 1.17.1 and numpy 2.4), then
`npx biome format --write src/monitoring/drift/fixtures` (the repository's JSON style). Evidently itself is not installed
here: its drift functions are reproduced below with numpy/scipy exactly as its source computes
them, each citing the file in evidentlyai/evidently (src/evidently/legacy/calculations/stattests/).
Tests read the JSON; nothing here runs at test time.
"""
import json
import math
import os
from collections import Counter

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance
from scipy.stats import chisquare, ks_2samp, norm

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "monitoring", "drift", "fixtures")
rng = np.random.default_rng(20240607)


def num(x):
    """JSON-safe float: inf/nan as strings the tests decode."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


# ---- Evidently's formulas (legacy/calculations/stattests) -------------------------------------

def unique_union(ref, cur):
    # utils.py get_unique_not_nan_values_list_from_series: set(ref) | set(cur)
    return list(set(ref) | set(cur))


def value_counts(values):
    return dict(Counter(values))


def get_binned_data(ref, cur, numeric, feel_zeroes):
    # utils.py get_binned_data
    n_vals = len(set(ref))
    if numeric and n_vals > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        ref_p = np.histogram(ref, bins)[0] / len(ref)
        cur_p = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = unique_union(ref, cur)
        rc = {**dict.fromkeys(keys, 0), **value_counts(ref)}
        cc = {**dict.fromkeys(keys, 0), **value_counts(cur)}
        ref_p = np.array([rc[k] / len(ref) for k in keys])
        cur_p = np.array([cc[k] / len(cur) for k in keys])
    if feel_zeroes:
        for arr in (ref_p, cur_p):
            m = min(arr[arr != 0])
            np.place(arr, arr == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return ref_p, cur_p


def chi_stat_test(ref, cur):
    # chisquare_stattest.py _chi_stat_test
    keys = unique_union(ref, cur)
    rc = {**dict.fromkeys(keys, 0), **value_counts(ref)}
    cc = {**dict.fromkeys(keys, 0), **value_counts(cur)}
    k_norm = len(cur) / len(ref)
    f_exp = [rc[k] * k_norm for k in keys]
    f_obs = [cc[k] for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = chisquare(f_obs, f_exp)
    return float(res[0]), float(res[1])


def z_stat_test(ref, cur):
    # z_stattest.py _z_stat_test (statistic reported alongside the p-value)
    if len(set(ref)) == 1 and len(set(cur)) == 1 and ref[0] == cur[0]:
        return 0.0, 1.0
    keys = sorted(unique_union(ref, cur))
    r = np.array([0 if x == keys[0] else 1 for x in ref])
    c = np.array([0 if x == keys[0] else 1 for x in cur])
    n1, n2 = len(r), len(c)
    p1, p2 = float(sum(r)) / n1, float(sum(c)) / n2
    P = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2))
    return float(z), float(2 * (1 - norm.cdf(np.abs(z))))


def wasserstein_norm(ref, cur):
    # wasserstein_distance_norm.py
    n = max(np.std(ref), 0.001)
    return float(stats.wasserstein_distance(ref, cur) / n)


def jensenshannon(ref, cur, numeric):
    # jensenshannon.py: get_binned_data(..., feel_zeroes=False), base None (natural log)
    r, c = get_binned_data(ref, cur, numeric, False)
    return float(distance.jensenshannon(r, c))


def psi(ref, cur, numeric):
    # psi.py
    r, c = get_binned_data(ref, cur, numeric, True)
    return float(np.sum((r - c) * np.log(r / c)))


def default_test(ref, cur, numeric):
    # registry.py _get_default_stattest
    n_values = len(set(ref) | set(cur))
    if len(ref) <= 1000:
        if numeric:
            if n_values <= 5:
                return "chi2" if n_values > 2 else "z"
            return "ks"
        return "chi2" if n_values > 2 else "z"
    if numeric:
        return "jensenshannon" if n_values <= 5 else "wasserstein_norm"
    return "jensenshannon"


# ---- samples ----------------------------------------------------------------------------------

def numeric_cases():
    cases = []

    def add(name, a, b):
        cases.append((name, np.asarray(a, dtype=float), np.asarray(b, dtype=float)))

    add("small-normal", rng.normal(0, 1, 40), rng.normal(0.3, 1, 55))
    add("small-equal-sizes", rng.normal(0, 1, 60), rng.normal(0.5, 1.2, 60))
    add("tiny", [1.0, 2.0, 3.0], [2.5, 3.5])
    add("one-each", [1.0], [2.0])
    add("ties-integers", rng.integers(0, 12, 300), rng.integers(2, 14, 250))
    add("same-distribution", np.round(rng.normal(5, 2, 200), 2), np.round(rng.normal(5, 2, 200), 2))
    same = np.round(rng.normal(0, 1, 150), 3)
    add("same-sample", same, same.copy())
    add("disjoint", rng.uniform(0, 1, 80), rng.uniform(2, 3, 90))
    add("shifted-1000", np.round(rng.normal(10, 3, 1000), 4), np.round(rng.normal(10.4, 3, 1000), 4))
    add("ref-1000-cur-5000", np.round(rng.normal(0, 1, 1000), 3), np.round(rng.normal(0.05, 1, 5000), 3))
    add("uneven-exact", np.round(rng.exponential(1.0, 700), 4), np.round(rng.exponential(1.1, 9000), 4))
    add("asymp-ref-800-cur-20000", np.round(rng.normal(0, 1, 800), 3), np.round(rng.normal(0.02, 1, 20000), 3))
    add("asymp-large-shift", np.round(rng.gamma(2, 2, 12000), 2), np.round(rng.gamma(2.2, 2, 11000), 2))
    add("asymp-small-d", np.round(rng.normal(0, 1, 15000), 2), np.round(rng.normal(0, 1, 16000), 2))
    add("asymp-tiny-vs-large", rng.normal(0, 1, 12), np.round(rng.normal(0.8, 1, 12000), 3))
    add("three-values", rng.choice([1.0, 2.0, 3.0], 300, p=[0.5, 0.3, 0.2]), rng.choice([1.0, 2.0, 3.0], 280, p=[0.4, 0.3, 0.3]))
    add("two-values", rng.choice([0.0, 1.0], 500, p=[0.7, 0.3]), rng.choice([0.0, 1.0], 450, p=[0.6, 0.4]))
    add("single-value-both", np.full(50, 7.0), np.full(40, 7.0))
    add("single-value-diff", np.full(50, 7.0), np.full(40, 8.0))
    add("new-value-in-current", rng.choice([1.0, 2.0, 3.0, 4.0], 400), rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], 300))
    add("wide-range-30-unique", rng.integers(0, 30, 2000), rng.integers(0, 35, 1500))
    add("large-continuous", np.round(rng.normal(100, 15, 5000), 3), np.round(rng.normal(103, 16, 6000), 3))
    return cases


def categorical_cases():
    cats = ["a", "b", "c", "d", "e", "f"]
    cases = []

    def add(name, a, b):
        cases.append((name, list(a), list(b)))

    add("cats-5", rng.choice(cats[:5], 400, p=[0.3, 0.3, 0.2, 0.1, 0.1]), rng.choice(cats[:5], 350, p=[0.25, 0.3, 0.2, 0.15, 0.1]))
    add("cats-new-in-current", rng.choice(cats[:3], 300), rng.choice(cats[:4], 200))
    add("cats-missing-in-current", rng.choice(cats[:4], 300), rng.choice(cats[:2], 200))
    add("binary", rng.choice(["yes", "no"], 600, p=[0.8, 0.2]), rng.choice(["yes", "no"], 500, p=[0.7, 0.3]))
    add("binary-same", rng.choice(["yes", "no"], 600, p=[0.8, 0.2]), rng.choice(["yes", "no"], 700, p=[0.8, 0.2]))
    add("single-category", ["x"] * 30, ["x"] * 20)
    add("large-cats", rng.choice(cats, 5000), rng.choice(cats, 4000, p=[0.2, 0.2, 0.2, 0.2, 0.1, 0.1]))
    add("many-categories", [f"c{i}" for i in rng.integers(0, 120, 3000)], [f"c{i}" for i in rng.integers(0, 130, 2500)])
    return cases


def sample_json(values):
    return [num(v) for v in values] if isinstance(values, np.ndarray) else list(values)


def main():
    os.makedirs(OUT, exist_ok=True)
    numeric = []
    for name, a, b in numeric_cases():
        ks = ks_2samp(a, b)
        entry = {
            "name": name,
            "reference": sample_json(a),
            "current": sample_json(b),
            "integral": bool(np.all(a == np.round(a)) and np.all(b == np.round(b))),
            "ks": {"statistic": num(ks.statistic), "pValue": num(ks.pvalue)},
            "wasserstein": num(stats.wasserstein_distance(a, b)),
            "wassersteinNorm": num(wasserstein_norm(a, b)),
            "referenceStd": num(np.std(a)),
            "jensenshannon": num(jensenshannon(a, b, True)),
            "psi": num(psi(a, b, True)),
            "defaultTest": default_test(list(a), list(b), True),
        }
        if len(set(a) | set(b)) <= 5:
            entry["chi2"] = dict(zip(("statistic", "pValue"), map(num, chi_stat_test(list(a), list(b)))))
            entry["z"] = dict(zip(("statistic", "pValue"), map(num, z_stat_test(list(a), list(b)))))
        numeric.append(entry)

    categorical = []
    for name, a, b in categorical_cases():
        a = [str(x) for x in a]
        b = [str(x) for x in b]
        categorical.append({
            "name": name,
            "reference": a,
            "current": b,
            "chi2": dict(zip(("statistic", "pValue"), map(num, chi_stat_test(a, b)))),
            "z": dict(zip(("statistic", "pValue"), map(num, z_stat_test(a, b)))),
            "jensenshannon": num(jensenshannon(a, b, False)),
            "psi": num(psi(a, b, False)),
            "defaultTest": default_test(a, b, False),
        })

    # Special functions on grids that reach every branch SciPy takes.
    kstwo = []
    for n in [1, 2, 3, 5, 8, 10, 20, 50, 100, 140, 141, 300, 999, 1000, 5000, 20000, 100000, 100001, 500000]:
        for x in [0.0005, 0.001, 0.003, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.7, 0.9, 0.99]:
            kstwo.append({"n": n, "x": x, "sf": num(stats.kstwo.sf(x, n))})
    smirnov = []
    for n in [2, 5, 10, 50, 141, 1000, 20000, 200000]:
        for x in [0.01, 0.05, 0.1, 0.2, 0.5, 0.75, 0.95]:
            smirnov.append({"n": n, "x": x, "sf": num(scipy.special.smirnov(n, x))})
    chi2 = []
    for df in [1, 2, 3, 4, 5, 10, 29, 49, 50, 119, 129, 400, 1000, 5000]:
        for ratio in [0.0, 0.01, 0.3, 0.7, 0.95, 1.0, 1.05, 1.3, 2.0, 4.0]:
            x = df * ratio
            chi2.append({"df": df, "x": x, "sf": num(stats.chi2.sf(x, df))})
        for x in [0.001, 0.4, 0.6, 1.0, 1.2]:
            chi2.append({"df": df, "x": x, "sf": num(stats.chi2.sf(x, df))})
    normal = [{"x": x, "cdf": num(norm.cdf(x))} for x in np.linspace(-40, 40, 161).tolist() + [0.5, 1e-3, -0.7071, 0.7072, 6.5, -8.5]]

    fixtures = {
        "numeric-tests.json": numeric,
        "categorical-tests.json": categorical,
        "special-functions.json": {"kstwoSf": kstwo, "smirnovSf": smirnov, "chi2Sf": chi2, "normalCdf": normal},
    }
    for file, data in fixtures.items():
        with open(os.path.join(OUT, file), "w") as handle:
            json.dump({"generator": "scripts/vectors/drift_vectors.py", "scipy": scipy.__version__,
                       "numpy": np.__version__, "cases": data}, handle, separators=(",", ":"))
            handle.write("\n")
        print(f"wrote {file}")


if __name__ == "__main__":
    main()
