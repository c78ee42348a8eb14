import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Clock } from "../../core/clock.js";
import type { OipTensor } from "../../core/oip-types.js";
import { type DatabaseHandle, openDatabase } from "../../storage/database.js";
import { createSeededRandom } from "../../training/datasets/seeded-random.js";
import { type AlertDispatcher, createAlertDispatcher } from "../alerts/dispatcher.js";
import { createProfileBuilder, type ReferenceProfile } from "../drift/index.js";
import {
  createDriftStore,
  createDriftWatch,
  type DriftWatch,
  MAX_ROWS_PER_REQUEST,
  type PredictObservation,
  registryModelOf,
  rowsFromTensors,
} from "./index.js";

const COLORS = ["red", "green", "blue"];

function referenceProfile(): ReferenceProfile {
  const random = createSeededRandom("reference");
  const builder = createProfileBuilder({
    features: [
      { name: "x", type: "numeric" },
      { name: "color", type: "categorical" },
    ],
    prediction: { name: "label", type: "categorical" },
  });
  for (let i = 0; i < 400; i++) {
    const x = random.uniform(-1, 1);
    builder.addRow({ x, color: COLORS[i % 3], label: x > 0 ? "yes" : "no" });
  }
  return builder.finish();
}

/** A predict request of `n` rows; `shift` moves x and makes every color red (live data drifted). */
function observation(n: number, seed: string, shift = 0, extra: Partial<PredictObservation> = {}): PredictObservation {
  const random = createSeededRandom(seed);
  const x = Array.from({ length: n }, () => random.uniform(-1, 1) + shift);
  const color = x.map((_, i) => (shift > 0 ? "red" : (COLORS[i % 3] as string)));
  const inputs: OipTensor[] = [
    { name: "x", datatype: "FP32", shape: [n], data: x },
    { name: "color", datatype: "BYTES", shape: [n], data: color },
  ];
  const outputs: OipTensor[] = [
    { name: "label", datatype: "BYTES", shape: [n], data: x.map((value) => (value > 0 ? "yes" : "no")) },
  ];
  return { endpoint: "scorer", target: "registry/scorer@production", modelVersion: "1", inputs, outputs, ...extra };
}

describe("drift-watch: rows from OIP tensors", () => {
  const profile = createProfileBuilder({
    features: [
      { name: "age", type: "numeric" },
      { name: "city", type: "categorical" },
      { name: "img", type: "image" },
      { name: "v[1]", type: "numeric" },
    ],
    prediction: { name: "probabilities[1]", type: "numeric" },
  }).finish();

  it("maps [N] tensors to scalars, [N,1] unwrapped, images as slices, NAME[j] as elements", () => {
    const rows = rowsFromTensors(profile, {
      endpoint: "e",
      target: "registry/m@a",
      modelVersion: "1",
      inputs: [
        { name: "age", datatype: "FP32", shape: [2, 1], data: [30, 40] },
        { name: "city", datatype: "BYTES", shape: [2], data: ["paris", "rome"] },
        { name: "img", datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4] },
        { name: "v", datatype: "FP32", shape: [2, 3], data: [0, 1, 2, 3, 4, 5] },
        { name: "unrelated", datatype: "FP32", shape: [2], data: [9, 9] },
      ],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [2, 2], data: [0.9, 0.1, 0.2, 0.8] }],
    });
    assert.deepEqual(rows, [
      { age: 30, city: "paris", img: [1, 2], "v[1]": 1, "probabilities[1]": 0.1 },
      { age: 40, city: "rome", img: [3, 4], "v[1]": 4, "probabilities[1]": 0.8 },
    ]);
  });

  it("leaves absent tensors out and caps one request's rows", () => {
    const n = MAX_ROWS_PER_REQUEST + 10;
    const rows = rowsFromTensors(profile, {
      endpoint: "e",
      target: "t",
      modelVersion: "1",
      inputs: [{ name: "age", datatype: "FP32", shape: [n], data: Array.from({ length: n }, (_, i) => i) }],
      outputs: [],
    });
    assert.equal(rows.length, MAX_ROWS_PER_REQUEST);
    assert.deepEqual(rows[5], { age: 5 });
  });

  it("knows registry targets from the others", () => {
    assert.equal(registryModelOf("registry/spam-filter@production"), "spam-filter");
    assert.equal(registryModelOf("local/model"), undefined);
    assert.equal(registryModelOf("registry/a@b@c"), undefined);
  });
});

describe("drift-watch: windows, checks, alerts, persistence (SQLite)", () => {
  let dataDir: string;
  let handle: DatabaseHandle;
  let alerts: AlertDispatcher;
  let now = Date.parse("2026-11-22T10:00:00Z");
  const clock: Clock = { now: () => now, monotonic: () => now };
  const reference = referenceProfile();
  let profileLookups: string[] = [];
  const settings = { windowMs: 3_600_000, minRows: 100, driftShare: 0.5 };
  const watchOn = (): DriftWatch =>
    createDriftWatch({
      store: createDriftStore(handle.db),
      clock,
      alerts,
      settings,
      profiles: {
        async get(model, version) {
          profileLookups.push(`${model}@${version}`);
          return model === "scorer" ? reference : undefined;
        },
      },
      onError: (error) => assert.fail(error as Error),
    });
  /** Lets the profile load of a first observation finish. */
  const settle = (watch: DriftWatch) => watch.windows("scorer");

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-drift-watch-"));
    handle = await openDatabase({ dataDir });
    alerts = createAlertDispatcher({ db: handle.db, clock, webhooksFor: async () => [] });
  });
  after(async () => {
    await alerts?.close();
    await handle?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await handle.db.deleteFrom("drift_windows").execute();
    await handle.db.deleteFrom("drift_reports").execute();
    await handle.db.deleteFrom("alerts").execute();
    profileLookups = [];
  });

  it("skips small windows, finds no drift in unshifted traffic, fires one alert per window on a shift", async () => {
    const watch = watchOn();
    // Checks a second apart, so "newest first" is well defined.
    const check = (rotate?: boolean) => {
      now += 1000;
      return watch.check("scorer", rotate ? { rotate } : {});
    };
    watch.observe(observation(40, "a"));
    const [early] = await check();
    assert.equal(early?.status, "skipped");
    assert.match(early?.reason ?? "", /40 rows < minRows 100/);
    for (const seed of ["b", "c", "d"]) watch.observe(observation(40, seed));
    const [calm] = await check();
    assert.equal(calm?.status, "checked");
    assert.equal(calm?.rows, 160);
    assert.equal(calm?.record?.datasetDrift, false, JSON.stringify(calm?.record?.report.columns));
    assert.equal(calm?.alert, undefined);
    assert.deepEqual(
      calm?.record?.report.columns.map((column) => [column.name, column.test]),
      [
        ["x", "ks"],
        ["color", "chi2"],
        ["label", "z"],
      ],
    );

    // A new window, then a shifted one: x moves by +1.5, every color is red.
    const [rotated] = await check(true);
    assert.equal(rotated?.windowId, calm?.windowId);
    for (const seed of ["e", "f", "g"]) watch.observe(observation(50, seed, 1.5));
    const [shifted] = await check();
    assert.notEqual(shifted?.windowId, calm?.windowId, "a fresh window after rotate");
    assert.equal(shifted?.rows, 150);
    assert.equal(shifted?.record?.datasetDrift, true);
    assert.equal(shifted?.record?.driftShare, 1);
    assert.equal(shifted?.alert?.isNew, true);
    const [again] = await check();
    assert.equal(again?.alert?.id, shifted?.alert?.id, "same window: de-duplicated");
    assert.equal(again?.alert?.isNew, false);

    const stored = await alerts.list({ tenantId: null });
    assert.equal(stored.length, 1);
    const alert = stored[0];
    assert.equal(alert?.kind, "drift-detected");
    assert.equal(alert?.occurrences, 2);
    assert.equal(alert?.dedupKey, `drift:scorer:scorer@1:${shifted?.windowId}`);
    assert.deepEqual(
      ((alert?.details.driftedColumns ?? []) as { name: string }[]).map((column) => column.name),
      ["x", "color", "label"],
    );

    const reports = await watch.reports("scorer");
    assert.equal(reports.length, 4, "every check that tested something is stored");
    assert.equal(reports[0]?.id, again?.record?.id, "newest first");
    assert.equal(reports[0]?.alertId, alert?.id);
    assert.equal(reports.at(-1)?.datasetDrift, false);
    const latest = await watch.latest();
    assert.deepEqual(
      latest.map(({ endpoint, version, datasetDrift }) => ({ endpoint, version, datasetDrift })),
      [{ endpoint: "scorer", version: "scorer@1", datasetDrift: true }],
    );
  });

  it("keeps one window per endpoint and version, and none for versions without a profile", async () => {
    const watch = watchOn();
    watch.observe(observation(120, "a"));
    watch.observe(observation(120, "b", 0, { modelVersion: "2" }));
    watch.observe(observation(120, "c", 0, { target: "registry/other@production" }));
    watch.observe(observation(120, "d", 0, { target: "openai/gpt" }));
    watch.observe(observation(120, "e", 0, { modelVersion: undefined }));
    await settle(watch);
    const windows = await watch.windows("scorer");
    assert.deepEqual(windows.map((window) => [window.model, window.version, window.rows]).sort(), [
      ["scorer", 1, 120],
      ["scorer", 2, 120],
    ]);
    watch.observe(observation(10, "f", 0, { target: "registry/other@production" }));
    assert.deepEqual(profileLookups.sort(), ["other@1", "scorer@1", "scorer@2"], "a missing profile is looked up once");
  });

  it("feeds requests that arrived while the profile loaded, and continues from snapshots after a restart", async () => {
    const first = watchOn();
    first.observe(observation(60, "a"));
    first.observe(observation(60, "b")); // still loading: kept pending
    await settle(first);
    assert.equal((await first.windows("scorer"))[0]?.rows, 120);
    await first.persist();
    first.observe(observation(30, "c")); // after the snapshot: lost on a crash, by design
    const [before] = await first.windows("scorer");

    const second = watchOn();
    const [restored] = await second.windows("scorer");
    assert.equal(restored?.windowId, before?.windowId);
    assert.equal(restored?.rows, 120, "the last snapshot");
    assert.equal(restored?.startedAt, before?.startedAt);
    second.observe(observation(30, "d"));
    const [checked] = await second.check("scorer");
    assert.equal(checked?.rows, 150);
    assert.equal(checked?.record?.datasetDrift, false);
    const saved = await handle.db.selectFrom("drift_windows").selectAll().execute();
    assert.equal(saved.length, 1);
    assert.equal(saved[0]?.rows, 150, "a check saves the window it tested");
  });

  it("the schedule checks windows with new rows only, and closes windows older than windowMs", async () => {
    const watch = watchOn();
    watch.observe(observation(150, "a"));
    await settle(watch);
    const [first] = await watch.checkAll();
    assert.equal(first?.status, "checked");
    const [idle] = await watch.checkAll();
    assert.equal(idle?.status, "skipped");
    assert.equal(idle?.reason, "no new rows since the last check");

    watch.observe(observation(10, "b"));
    now += settings.windowMs;
    const [last] = await watch.checkAll();
    assert.equal(last?.status, "checked");
    assert.equal(last?.rows, 160);
    const [fresh] = await watch.windows("scorer");
    assert.notEqual(fresh?.windowId, first?.windowId);
    assert.equal(fresh?.rows, 0);
    const rows = await handle.db.selectFrom("drift_windows").selectAll().execute();
    assert.equal(rows.length, 1, "the fresh window is not stored before it has rows");
    assert.equal(rows[0]?.id, first?.windowId);
    assert.equal(rows[0]?.closed_at, new Date(now).toISOString());

    // A whole window without traffic (a rolled-over version): it is dropped, until traffic returns.
    now += settings.windowMs;
    const [empty] = await watch.checkAll();
    assert.equal(empty?.rows, 0);
    assert.deepEqual(await watch.windows("scorer"), []);
    watch.observe(observation(5, "c"));
    const [reopened] = await watch.windows("scorer");
    assert.equal(reopened?.rows, 5);
    assert.equal(reopened?.startedAt, new Date(now).toISOString());
  });
});
