import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invoiceSuite } from "../src/commerce/invoices/testing/invoice-suite.js";
import { openDatabase } from "../src/storage/database.js";

invoiceSuite("SQLite", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-invoices-"));
  return { handle: await openDatabase({ dataDir }), cleanup: () => rm(dataDir, { recursive: true, force: true }) };
});
