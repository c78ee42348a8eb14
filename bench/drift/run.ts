/**
 * Drift report on 1,000,000 rows × 100 columns (50 numeric, 50 categorical; half of each
 * shifted) from reference profiles plus the current data, as issue 5 asks (≤ 10 s).
 *
 *   node --import tsx bench/drift/run.ts [--rows 1000000] [--runs 5] [--no-scipy]
 *
 * Stages per run: accumulate the current rows into a live window (columnar batches of 10,000
 * rows, as a gateway flush or a batch job would hand them over), snapshot, compare with the
 * reference (tests + dataset rule). Same-run references: one plain pass over the same data (sum
 * each numeric column, count each categorical code: the floor any drift check has to pay), and
 * SciPy computing Evidently's formulas (wasserstein_distance/np.std and jensenshannon on value
 * counts) on data of the same shape in a python3 subprocess.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { compareProfiles } from "../../src/monitoring/drift/compare.js";
import { createProfileBuilder } from "../../src/monitoring/drift/profile.js";
import { createDriftWindow } from "../../src/monitoring/drift/window.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const ROWS = flag("--rows", 1_000_000);
const RUNS = flag("--runs", 5);
const REFERENCE_ROWS = flag("--reference-rows", 100_000);
const NUMERIC = 50;
const CATEGORICAL = 50;
const CATEGORIES = 20;
const BATCH = 10_000;

/** xorshift128+ so runs are repeatable. */
function createRandom(seed: number) {
  let s0 = seed >>> 0 || 1;
  let s1 = (seed * 2654435761) >>> 0 || 2;
  const next = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x;
    return ((s0 + s1) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = next() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, normal };
}

const dictionary = Array.from({ length: CATEGORIES }, (_, i) => `category-${i}`);

function generate(rows: number, seed: number, shifted: boolean) {
  const random = createRandom(seed);
  const columns: Record<string, Float64Array | { codes: Uint16Array; dictionary: string[] }> = {};
  for (let c = 0; c < NUMERIC; c++) {
    const values = new Float64Array(rows);
    const shift = shifted && c % 2 === 0 ? 0.5 : 0; // every other numeric column drifts by half a σ
    const scale = 1 + (c % 5);
    for (let i = 0; i < rows; i++) values[i] = (random.normal() + shift) * scale + c;
    // A few columns are rounded (ties, fewer distinct values), like prices or ages.
    if (c % 10 === 9) for (let i = 0; i < rows; i++) values[i] = Math.round(values[i] as number);
    columns[`n${c}`] = values;
  }
  for (let c = 0; c < CATEGORICAL; c++) {
    const codes = new Uint16Array(rows);
    const skew = shifted && c % 2 === 0 ? 2.5 : 1.5; // drifting columns get a steeper distribution
    for (let i = 0; i < rows; i++) codes[i] = Math.min(CATEGORIES - 1, Math.floor(CATEGORIES * random.next() ** skew));
    columns[`c${c}`] = { codes, dictionary };
  }
  return columns;
}

function sliceBatch(columns: ReturnType<typeof generate>, start: number, end: number) {
  const batch: Record<string, Float64Array | { codes: Uint16Array; dictionary: string[] }> = {};
  for (const [name, values] of Object.entries(columns)) {
    batch[name] =
      values instanceof Float64Array
        ? values.subarray(start, end)
        : { codes: values.codes.subarray(start, end), dictionary };
  }
  return batch;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

const features = [
  ...Array.from({ length: NUMERIC }, (_, c) => ({ name: `n${c}`, type: "numeric" as const })),
  ...Array.from({ length: CATEGORICAL }, (_, c) => ({ name: `c${c}`, type: "categorical" as const })),
];

console.log(`drift benchmark: ${ROWS} rows × ${NUMERIC + CATEGORICAL} columns, reference ${REFERENCE_ROWS} rows`);
let started = performance.now();
const referenceData = generate(REFERENCE_ROWS, 1, false);
const current = generate(ROWS, 2, true);
console.log(`generated data in ${((performance.now() - started) / 1000).toFixed(1)} s (not timed below)`);

started = performance.now();
const builder = createProfileBuilder({ features });
for (let start = 0; start < REFERENCE_ROWS; start += BATCH) {
  builder.addColumns(sliceBatch(referenceData, start, Math.min(REFERENCE_ROWS, start + BATCH)));
}
const profile = builder.finish();
const profileMs = performance.now() - started;
const profileBytes = Buffer.byteLength(JSON.stringify(profile));

const timings: Record<string, number[]> = { scan: [], accumulate: [], snapshot: [], compare: [], total: [] };
let report: ReturnType<typeof compareProfiles> | undefined;
for (let run = 0; run < RUNS; run++) {
  // The floor: touch every value once.
  let t = performance.now();
  let checksum = 0;
  const perCode = new Float64Array(CATEGORIES);
  for (const values of Object.values(current)) {
    if (values instanceof Float64Array) for (let i = 0; i < values.length; i++) checksum += values[i] as number;
    else
      for (let i = 0; i < values.codes.length; i++) {
        const code = values.codes[i] as number;
        perCode[code] = (perCode[code] as number) + 1;
      }
  }
  timings.scan?.push(performance.now() - t);
  if (Number.isNaN(checksum)) throw new Error("unreachable");

  t = performance.now();
  const window = createDriftWindow(profile);
  for (let start = 0; start < ROWS; start += BATCH)
    window.addColumns(sliceBatch(current, start, Math.min(ROWS, start + BATCH)));
  const accumulated = performance.now();
  const snapshot = window.snapshot();
  const snapshotted = performance.now();
  report = compareProfiles(profile, snapshot);
  const compared = performance.now();
  timings.accumulate?.push(accumulated - t);
  timings.snapshot?.push(snapshotted - accumulated);
  timings.compare?.push(compared - snapshotted);
  timings.total?.push(compared - t);
}

if (!report) throw new Error("no runs");

// Gateway path: one request = one row object through addRow (100 features here).
const perRequest: number[] = [];
const requestRows = Array.from({ length: 20_000 }, (_, i) =>
  Object.fromEntries(
    Object.entries(current).map(([name, values]) => [
      name,
      values instanceof Float64Array ? values[i] : dictionary[values.codes[i] as number],
    ]),
  ),
);
for (let run = 0; run < RUNS; run++) {
  const window = createDriftWindow(profile);
  const t = performance.now();
  for (const row of requestRows) window.addRow(row);
  perRequest.push(((performance.now() - t) * 1000) / requestRows.length);
}
const drifted = report.columns.filter((column) => column.drift).map((column) => column.name);
const expected = [
  ...features.filter((_, i) => (i < NUMERIC ? i % 2 === 0 : (i - NUMERIC) % 2 === 0)).map((f) => f.name),
];
const tests = new Map<string, number>();
for (const column of report.columns) tests.set(column.test, (tests.get(column.test) ?? 0) + 1);

let scipySeconds: number | undefined;
let scipySplit = "";
if (!args.includes("--no-scipy")) {
  const script = fileURLToPath(new URL("./scipy_reference.py", import.meta.url));
  const result = spawnSync("python3", [script, String(ROWS), String(REFERENCE_ROWS)], { encoding: "utf8" });
  if (result.status === 0) {
    const parsed = JSON.parse(result.stdout) as { seconds: number; numeric: number; categorical: number };
    scipySeconds = parsed.seconds;
    scipySplit = `numeric ${parsed.numeric.toFixed(1)} s, categorical ${parsed.categorical.toFixed(1)} s`;
  } else console.log(`scipy reference unavailable: ${result.stderr.trim().split("\n").at(-1)}`);
}

const row = (stage: string, ms: number, note = "") =>
  console.log(`${stage.padEnd(34)}${(ms / 1000).toFixed(3).padStart(9)} s  ${note}`);
console.log(
  `\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, node ${process.version}; medians of ${RUNS} runs`,
);
console.log(`${"stage".padEnd(34)}${"time".padStart(11)}`);
row("reference profile (once)", profileMs, `${REFERENCE_ROWS} rows → ${(profileBytes / 1024).toFixed(0)} KiB JSON`);
row("floor: one pass over the data", median(timings.scan ?? []));
row(
  `window: accumulate ${ROWS} rows`,
  median(timings.accumulate ?? []),
  `${((median(timings.accumulate ?? []) * 1e6) / (ROWS * 100)).toFixed(1)} ns per value`,
);
row("window: snapshot", median(timings.snapshot ?? []));
row("compare: 100 tests + dataset rule", median(timings.compare ?? []));
row(
  "drift report total",
  median(timings.total ?? []),
  `${(median(timings.total ?? []) / median(timings.scan ?? [])).toFixed(1)}× the floor`,
);
if (scipySeconds !== undefined) {
  row(
    "scipy, Evidently's formulas (same shape)",
    scipySeconds * 1000,
    `${((scipySeconds * 1000) / median(timings.total ?? [])).toFixed(1)}× ours (${scipySplit})`,
  );
}
console.log(`${"per request: addRow, 100 features".padEnd(34)}${median(perRequest).toFixed(1).padStart(9)} µs`);
console.log(`\ntests used: ${[...tests].map(([name, n]) => `${name} ×${n}`).join(", ")}`);
console.log(
  `drifted: ${drifted.length} of ${report.columns.length} (share ${report.driftShare}); dataset drift: ${report.datasetDrift}`,
);
const missed = expected.filter((name) => !drifted.includes(name));
const falseAlarms = drifted.filter((name) => !expected.includes(name));
console.log(`shifted columns missed: ${missed.length}; unshifted flagged: ${falseAlarms.length}`);
console.log(
  `approximate columns: ${report.approximateColumns.length} (reference sketches); max total ${(Math.max(...(timings.total ?? [])) / 1000).toFixed(3)} s`,
);
