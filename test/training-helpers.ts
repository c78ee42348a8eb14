import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createDatasetStore, type DatasetStore, type LoadedDataset } from "../src/training/datasets/dataset-store.js";
import { createSeededRandom } from "../src/training/datasets/seeded-random.js";
import type { DataTable, DeclaredSchema } from "../src/training/datasets/types.js";

/** A SQLite database with one tenant and a dataset store, in a temp dir; `close()` removes it all. */
export interface TrainingBench {
  dataDir: string;
  handle: DatabaseHandle;
  datasets: DatasetStore;
  tenantId: string;
  load(name: string, table: DataTable, declared?: DeclaredSchema): Promise<LoadedDataset>;
  close(): Promise<void>;
}

export async function openTrainingBench(tenantIds: string[] = ["ten_train"]): Promise<TrainingBench> {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-training-"));
  const handle = await openDatabase({ dataDir });
  for (const id of tenantIds) {
    await handle.db.insertInto("tenants").values({ id, name: id, created_at: new Date().toISOString() }).execute();
  }
  const datasets = createDatasetStore({ db: handle.db, dialect: handle.dialect, dataDir });
  const tenantId = tenantIds[0] as string;
  return {
    dataDir,
    handle,
    datasets,
    tenantId,
    async load(name, table, declared = {}) {
      await datasets.import(tenantId, { name, source: { kind: "table", table }, ...declared });
      return datasets.load(tenantId, name);
    },
    async close() {
      await handle.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Two word families make the two classes; each text mixes 3–7 class words with shared filler. */
export function sentimentTable(rows: number, seed = 1): DataTable {
  const random = createSeededRandom(seed);
  const positive = ["good", "great", "fine", "happy", "love", "nice", "excellent"];
  const negative = ["bad", "awful", "poor", "sad", "hate", "terrible", "ugly"];
  const filler = ["the", "a", "movie", "was", "really", "it", "and", "plot"];
  const out: DataTable = { columns: ["text", "label"], rows: [] };
  for (let i = 0; i < rows; i++) {
    const label = i % 2 === 0 ? "pos" : "neg";
    const words = label === "pos" ? positive : negative;
    const tokens: string[] = [];
    const count = 3 + random.integer(5);
    for (let j = 0; j < count; j++) {
      tokens.push(filler[random.integer(filler.length)] as string, words[random.integer(words.length)] as string);
    }
    out.rows.push([tokens.join(" "), label]);
  }
  return out;
}

/** Numeric features x1, x2 and a category; class = x1 + x2 > 0 (plus a label-noise fraction). */
export function tabularTable(rows: number, seed = 1, noise = 0): DataTable {
  const random = createSeededRandom(seed);
  const out: DataTable = { columns: ["x1", "x2", "color", "label"], rows: [] };
  for (let i = 0; i < rows; i++) {
    const x1 = random.uniform(-1, 1);
    const x2 = random.uniform(-1, 1);
    let label = x1 + x2 > 0 ? "yes" : "no";
    if (random.next() < noise) label = random.next() < 0.5 ? "yes" : "no";
    out.rows.push([x1, x2, ["red", "green", "blue"][i % 3] as string, label]);
  }
  return out;
}
