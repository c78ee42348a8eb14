import { ledgerSuite } from "../src/commerce/ledger/testing/ledger-suite.js";
import { openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

const probe = await probePostgres();
if (probe.state !== "ready") {
  reportPostgresUnavailable("usage ledger on PostgreSQL", probe);
} else {
  ledgerSuite("PostgreSQL", async () => {
    const database = await createTestDatabase(probe.adminUrl);
    return {
      // PostgreSQL never reads the data dir; openDatabase still requires one.
      open: () => openDatabase({ databaseUrl: database.url, dataDir: "/nonexistent-modelport-data-dir" }),
      cleanup: () => database.drop(),
    };
  });
}
