import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ModelportError } from "../src/core/errors.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { canonicalize } from "../src/training/datasets/canonical.js";
import { createDatasetStore, type DatasetStore, splitVersion } from "../src/training/datasets/dataset-store.js";
import { encodePng } from "../src/training/datasets/png.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

const code = (expected: string, pattern?: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === expected && (pattern === undefined || pattern.test(error.message));

interface Fixture {
  handle: DatabaseHandle;
  store: DatasetStore;
  dataDir: string;
  tenantA: string;
  tenantB: string;
}

/** The same behaviour on both databases: one suite, two dialects. */
function storeSuite(label: string, open: (dataDir: string) => Promise<DatabaseHandle>, cleanup: () => Promise<void>) {
  describe(`dataset store on ${label}`, () => {
    let fixture: Fixture;
    let files: string;

    before(async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-datasets-"));
      files = join(dataDir, "inputs");
      await mkdir(files);
      const handle = await open(dataDir);
      // Tenants straight into their table: this suite is about datasets, not the tenant service.
      const now = new Date().toISOString();
      await handle.db
        .insertInto("tenants")
        .values([
          { id: "ten_alpha", name: "alpha", created_at: now },
          { id: "ten_beta", name: "beta", created_at: now },
        ])
        .execute();
      let tick = Date.parse("2026-01-01T00:00:00Z");
      const store = createDatasetStore({
        db: handle.db,
        dialect: handle.dialect,
        dataDir,
        clock: { now: () => (tick += 1000), monotonic: () => performance.now() },
      });
      fixture = { handle, store, dataDir, tenantA: "ten_alpha", tenantB: "ten_beta" };
    });

    after(async () => {
      await fixture?.handle.close();
      if (fixture !== undefined) await rm(fixture.dataDir, { recursive: true, force: true });
      await cleanup();
    });

    test("CSV import: content-addressed, immutable, re-import is the same version", async () => {
      const { store, tenantA, dataDir } = fixture;
      const csv = join(files, "flowers.csv");
      await writeFile(
        csv,
        "petal,color,species\n1.4,white,setosa\n4.7,,versicolor\n1.3,white,setosa\n5.1,blue,virginica\n",
      );
      const first = await store.import(tenantA, {
        name: "flowers",
        source: { kind: "csv", path: csv },
        label: "species",
      });
      assert.equal(first.created, true);
      assert.match(first.version.version, /^[0-9a-f]{64}$/);
      assert.equal(first.version.directory, join(dataDir, "datasets", tenantA, "flowers", first.version.version));
      assert.equal(first.version.rowCount, 4);
      assert.equal(first.version.schema.task, "classification");
      assert.equal(first.version.quality.columns.color?.missing, 1);
      assert.deepEqual(first.version.source, { kind: "csv", path: csv });
      const bytes = await readFile(join(first.version.directory, "data.jsonl"));
      assert.equal(bytes.length, first.version.byteSize);
      const meta = JSON.parse(await readFile(join(first.version.directory, "meta.json"), "utf8")) as {
        version: string;
      };
      assert.equal(meta.version, first.version.version);

      const again = await store.import(tenantA, {
        name: "flowers",
        source: { kind: "csv", path: csv },
        label: "species",
      });
      assert.equal(again.created, false);
      assert.equal(again.version.version, first.version.version);
      assert.equal(again.version.createdAt, first.version.createdAt, "the first import's record stands");

      // The same rows written differently (quoting, number format, CRLF) are the same content.
      await writeFile(
        csv,
        'petal,color,species\r\n1.40,"white",setosa\r\n4.7,NA,versicolor\r\n1.3,white,setosa\r\n5.1,blue,virginica\r\n',
      );
      const reformatted = await store.import(tenantA, {
        name: "flowers",
        source: { kind: "csv", path: csv },
        label: "species",
      });
      assert.equal(reformatted.version.version, first.version.version);

      await writeFile(
        csv,
        "petal,color,species\n1.4,white,setosa\n4.7,,versicolor\n1.3,white,setosa\n5.2,blue,virginica\n",
      );
      const changed = await store.import(tenantA, {
        name: "flowers",
        source: { kind: "csv", path: csv },
        label: "species",
      });
      assert.equal(changed.created, true);
      assert.notEqual(changed.version.version, first.version.version);

      const versions = await store.list(tenantA, "flowers");
      assert.deepEqual(
        versions.map((version) => version.version),
        [changed.version.version, first.version.version],
        "newest first",
      );
      assert.equal((await store.get(tenantA, "flowers")).version, changed.version.version, "latest by default");
      const byPrefix = await store.get(tenantA, "flowers", first.version.version.slice(0, 8).toUpperCase());
      assert.equal(byPrefix.version, first.version.version);
      const loaded = await store.load(tenantA, "flowers", first.version.version);
      assert.deepEqual(loaded.table.rows[1], [4.7, null, "versicolor"]);
    });

    test("every read is tenant-scoped", async () => {
      const { store, tenantA, tenantB } = fixture;
      const table = {
        columns: ["x", "label"],
        rows: [
          [1, "a"],
          [2, "b"],
        ],
      };
      const mine = await store.import(tenantA, { name: "secret", source: { kind: "table", table } });
      await assert.rejects(store.get(tenantB, "secret"), code("MP_NOT_FOUND"));
      await assert.rejects(store.get(tenantB, "secret", mine.version.version), code("MP_NOT_FOUND"));
      await assert.rejects(store.load(tenantB, "secret"), code("MP_NOT_FOUND"));
      assert.deepEqual(await store.list(tenantB), []);
      const theirs = await store.import(tenantB, { name: "secret", source: { kind: "table", table } });
      assert.equal(theirs.created, true, "the same content is a separate version row for another tenant");
      assert.equal(theirs.version.version, mine.version.version);
      assert.notEqual(theirs.version.directory, mine.version.directory);
      assert.ok((await store.list(tenantA)).every((version) => version.tenantId === tenantA));
      await assert.rejects(
        store.import("ten_nobody", { name: "x", source: { kind: "table", table } }),
        code("MP_NOT_FOUND", /tenant/),
      );
      await assert.rejects(store.get("../etc", "secret"), code("MP_INVALID_REQUEST"));
    });

    test("tampered files are detected on load; lost files are restored by re-importing", async () => {
      const { store, tenantA } = fixture;
      const table = { columns: ["v"], rows: [[1], [2], [3]] };
      const { version } = await store.import(tenantA, { name: "fragile", source: { kind: "table", table } });
      const path = join(version.directory, "data.jsonl");
      const original = await readFile(path, "utf8");
      await writeFile(path, original.replace("[3]", "[4]"));
      await assert.rejects(store.load(tenantA, "fragile"), code("MP_STORAGE_ERROR", /modified on disk/));
      assert.equal((await store.load(tenantA, "fragile", undefined, { verify: false })).table.rows[2]?.[0], 4);
      await rm(version.directory, { recursive: true });
      await assert.rejects(store.load(tenantA, "fragile"), code("MP_STORAGE_ERROR", /missing/));
      const restored = await store.import(tenantA, { name: "fragile", source: { kind: "table", table } });
      assert.equal(restored.created, false);
      assert.deepEqual((await store.load(tenantA, "fragile")).table.rows, table.rows);
    });

    test("JSONL and PNG folders import; names and versions are validated", async () => {
      const { store, tenantA } = fixture;
      const jsonl = join(files, "reviews.jsonl");
      await writeFile(jsonl, '{"text":"great","stars":5}\n{"text":"bad","stars":1,"extra":"x"}\n');
      const reviews = await store.import(tenantA, {
        name: "reviews",
        source: { kind: "jsonl", path: jsonl },
        label: null,
      });
      assert.deepEqual(
        reviews.version.schema.columns.map((column) => column.name),
        ["text", "stars", "extra"],
      );
      assert.equal(reviews.version.schema.label, null);

      const folder = join(files, "digits");
      for (const [label, value] of [
        ["0", 0],
        ["1", 255],
      ] as const) {
        await mkdir(join(folder, label), { recursive: true });
        for (const name of ["a.png", "b.png"]) {
          const data = new Uint8Array(16).fill(value);
          data[name === "a.png" ? 0 : 15] = 128;
          await writeFile(join(folder, label, name), encodePng({ width: 4, height: 4, channels: 1, data }));
        }
      }
      const digits = await store.import(tenantA, { name: "digits", source: { kind: "images", path: folder } });
      assert.equal(digits.version.rowCount, 4);
      assert.equal(digits.version.schema.task, "classification");
      const image = digits.version.schema.columns.find((column) => column.type === "image");
      assert.deepEqual(image?.shape, [4, 4]);
      assert.deepEqual(image?.pixelRange, [0, 255]);

      await assert.rejects(
        store.import(tenantA, { name: "Bad Name", source: { kind: "jsonl", path: jsonl } }),
        code("MP_INVALID_REQUEST", /dataset name/),
      );
      await assert.rejects(
        store.import(tenantA, { name: "../up", source: { kind: "jsonl", path: jsonl } }),
        code("MP_INVALID_REQUEST"),
      );
      await assert.rejects(store.get(tenantA, "reviews", "xyz"), code("MP_INVALID_REQUEST", /hex/));
      await assert.rejects(store.get(tenantA, "reviews", "0000000"), code("MP_NOT_FOUND"));
      await assert.rejects(
        store.import(tenantA, { name: "gone", source: { kind: "csv", path: join(files, "none.csv") } }),
        code("MP_NOT_FOUND"),
      );
    });

    test("an ambiguous version prefix is refused", async () => {
      const { store, tenantA } = fixture;
      // Find two tiny tables whose version shares the first 4 hex digits (a birthday search).
      const seen = new Map<string, number>();
      let pair: [number, number] | undefined;
      for (let i = 0; pair === undefined; i++) {
        const prefix = canonicalize({ columns: ["i"], rows: [[i]] }, {}).sha256.slice(0, 4);
        const earlier = seen.get(prefix);
        if (earlier !== undefined) pair = [earlier, i];
        seen.set(prefix, i);
      }
      for (const i of pair)
        await store.import(tenantA, {
          name: "twins",
          source: { kind: "table", table: { columns: ["i"], rows: [[i]] } },
        });
      const prefix = canonicalize({ columns: ["i"], rows: [[pair[0]]] }, {}).sha256.slice(0, 4);
      await assert.rejects(store.get(tenantA, "twins", prefix), code("MP_INVALID_REQUEST", /ambiguous/));
    });

    test("the Boston example imports as regression and splits reproducibly", async () => {
      const { store, tenantA } = fixture;
      const { version, created } = await store.import(tenantA, {
        name: "boston",
        source: { kind: "example", example: "boston" },
      });
      assert.equal(created, true);
      assert.equal(version.rowCount, 506);
      assert.equal(version.schema.label, "medv");
      assert.equal(version.schema.task, "regression");
      assert.match(version.source.description ?? "", /^@stdlib\/datasets-harrison-boston-house-prices@/);
      const loaded = await store.load(tenantA, "boston");
      const split = splitVersion(loaded, { seed: 7, train: 0.8, test: 0.2 });
      assert.equal(split.test.length, 101);
      assert.deepEqual(splitVersion(loaded, { seed: 7, train: 0.8, test: 0.2 }), split);
      await assert.rejects(
        store.import(tenantA, { name: "x", source: { kind: "example", example: "cifar" as "mnist" } }),
        code("MP_INVALID_REQUEST", /unknown example/),
      );
    });
  });
}

storeSuite(
  "SQLite",
  (dataDir) => openDatabase({ dataDir }),
  async () => {},
);

const probe = await probePostgres();
if (probe.state !== "ready") {
  reportPostgresUnavailable("dataset store on PostgreSQL", probe);
} else {
  let database: PostgresTestDatabase | undefined;
  storeSuite(
    "PostgreSQL",
    async (dataDir) => {
      database = await createTestDatabase(probe.adminUrl);
      return openDatabase({ databaseUrl: database.url, dataDir });
    },
    async () => {
      await database?.drop();
    },
  );
}
