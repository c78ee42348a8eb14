import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createDatasetStore, type DatasetStore, splitVersion } from "../src/training/datasets/dataset-store.js";

// The two big shipped examples, end to end on SQLite (the PostgreSQL path is covered by
// datasets-store.test.ts with the small ones). Timings are printed, not asserted: this machine is shared.
describe("shipped examples: mnist and spam", () => {
  let handle: DatabaseHandle;
  let dataDir: string;
  let store: DatasetStore;
  const tenant = "ten_examples";

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-examples-"));
    handle = await openDatabase({ dataDir });
    await handle.db
      .insertInto("tenants")
      .values({ id: tenant, name: "examples", created_at: new Date().toISOString() })
      .execute();
    store = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
  });

  after(async () => {
    await handle?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("mnist: 10,000 labelled 28×28 digits in [0, 1]", async () => {
    const started = performance.now();
    const { version, timings } = await store.import(tenant, {
      name: "digits",
      source: { kind: "example", example: "mnist" },
    });
    console.log(`mnist import ${(performance.now() - started).toFixed(0)} ms`, timings);
    assert.equal(version.rowCount, 10_000);
    assert.equal(version.schema.task, "classification");
    const image = version.schema.columns.find((column) => column.name === "image");
    assert.deepEqual(image?.shape, [28, 28]);
    assert.deepEqual(image?.pixelRange, [0, 1]);
    assert.equal(version.quality.columns.image?.outOfRange?.count, 0);
    assert.deepEqual(
      version.quality.classBalance?.classes.map((entry) => entry.count),
      [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978],
    );

    const again = await store.import(tenant, { name: "digits", source: { kind: "example", example: "mnist" } });
    assert.equal(again.created, false);
    assert.equal(again.version.version, version.version);
    assert.equal(again.timings.canonicalize, 0, "a repeated example import answers from the database");

    const loadStarted = performance.now();
    const loaded = await store.load(tenant, "digits");
    console.log(`mnist load ${(performance.now() - loadStarted).toFixed(0)} ms`);
    const split = splitVersion(loaded, { seed: 1, train: 0.8, test: 0.2 });
    assert.equal(split.test.length, 2000);
    const testSevens = split.test.filter((row) => loaded.table.rows[row]?.[1] === 7).length;
    assert.ok(Math.abs(testSevens - 1070 * 0.2) < 1, `${testSevens} sevens in the test split`);
  });

  test("spam: 6,046 emails, 4,150 ham and 1,896 spam", async () => {
    const started = performance.now();
    const { version, timings } = await store.import(tenant, {
      name: "spam",
      source: { kind: "example", example: "spam" },
    });
    console.log(`spam import ${(performance.now() - started).toFixed(0)} ms`, timings);
    assert.equal(version.rowCount, 6046);
    assert.deepEqual(
      version.schema.columns.map((column) => [column.name, column.type, column.role]),
      [
        ["text", "text", "feature"],
        ["label", "categorical", "label"],
      ],
    );
    assert.deepEqual(
      version.quality.classBalance?.classes.map((entry) => [entry.value, entry.count]),
      [
        ["ham", 4150],
        ["spam", 1896],
      ],
    );
    const loaded = await store.load(tenant, "spam");
    const split = splitVersion(loaded, { seed: 42, train: 0.8, validation: 0.1, test: 0.1 });
    const spamInTest = split.test.filter((row) => loaded.table.rows[row]?.[1] === "spam").length;
    assert.ok(Math.abs(spamInTest - 189.6) < 1);
  });
});
