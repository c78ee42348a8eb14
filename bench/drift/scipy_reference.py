#!/usr/bin/env python3
"""Same-run reference for bench/drift/run.ts: Evidently's default drift formulas in numpy/scipy on
data of the same shape (50 normal numeric columns, 50 categorical with 20 categories; reference
and current sizes from argv). Prints {"seconds": time of the tests only, not of generating data}.
Numeric: scipy.stats.wasserstein_distance / max(np.std(ref), 0.001) (wasserstein_distance_norm.py);
categorical: jensenshannon over value counts (jensenshannon.py / utils.get_binned_data), counted
with np.bincount."""
import json
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance

rows, reference_rows = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(3)
ref_num = [rng.normal(0, 1, reference_rows) for _ in range(50)]
cur_num = [rng.normal(0.25, 1, rows) for _ in range(50)]
ref_cat = [rng.integers(0, 20, reference_rows) for _ in range(50)]
cur_cat = [rng.integers(0, 20, rows) for _ in range(50)]

start = time.perf_counter()
for r, c in zip(ref_num, cur_num):
    stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
numeric_done = time.perf_counter()
for r, c in zip(ref_cat, cur_cat):
    # value counts in one pass each (np.bincount: at least as fast as pandas' value_counts)
    rc = np.bincount(r, minlength=20) / len(r)
    cc = np.bincount(c, minlength=20) / len(c)
    distance.jensenshannon(rc, cc)
end = time.perf_counter()
print(json.dumps({"seconds": end - start, "numeric": numeric_done - start, "categorical": end - numeric_done}))
