import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storageContractSuite } from "../src/core/testing/storage-contract.js";
import { openStorage } from "../src/storage/database.js";

// One temp data dir for the suite: every open() lands on the same modelport.db, as the contract requires.
let dataDir: string | undefined;

storageContractSuite(
  "SQLite (better-sqlite3)",
  async () => {
    dataDir ??= await mkdtemp(join(tmpdir(), "modelport-storage-"));
    return openStorage({ dataDir });
  },
  async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  },
);
