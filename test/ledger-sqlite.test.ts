import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ledgerSuite } from "../src/commerce/ledger/testing/ledger-suite.js";
import { openDatabase } from "../src/storage/database.js";

ledgerSuite("SQLite", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-ledger-"));
  return {
    open: () => openDatabase({ dataDir }),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});
