import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/storage/database.js";
import { createDatasetStore } from "../src/training/datasets/dataset-store.js";
import { trainModel } from "../src/training/trainers/index.js";

const which = process.argv[2] ?? "bow";
const dataDir = await mkdtemp(join(tmpdir(), "mp-smoke-"));
const handle = await openDatabase({ dataDir });
await handle.db.insertInto("tenants").values({ id: "t1", name: "t1", created_at: new Date().toISOString() }).execute();
const store = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
const example = which === "cnn" ? "mnist" : which === "regression" ? "boston" : "spam";
await store.import("t1", { name: "d", source: { kind: "example", example } });
const loaded = await store.load("t1", "d");
const started = performance.now();
let last = 0;
const result = await trainModel({
  dataset: loaded,
  template: which as "bow",
  seed: 42,
  outputDir: join(dataDir, "out"),
  hyperparameters: JSON.parse(process.argv[3] ?? "{}"),
  onProgress: (p) => {
    if (p.phase === "epoch" || performance.now() - last > 10000) {
      last = performance.now();
      console.log(JSON.stringify(p));
    }
  },
});
console.log(
  which,
  ((performance.now() - started) / 1000).toFixed(1),
  "s",
  JSON.stringify(result.metrics),
  result.bestEpoch,
  result.stoppedEarly,
  result.split,
);
await handle.close();
