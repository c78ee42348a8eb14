import { invoiceSuite } from "../src/commerce/invoices/testing/invoice-suite.js";
import { openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

const probe = await probePostgres();
if (probe.state !== "ready") {
  reportPostgresUnavailable("invoices on PostgreSQL", probe);
} else {
  invoiceSuite("PostgreSQL", async () => {
    const database = await createTestDatabase(probe.adminUrl);
    return {
      // PostgreSQL never reads the data dir; openDatabase still requires one.
      handle: await openDatabase({ databaseUrl: database.url, dataDir: "/nonexistent-modelport-data-dir" }),
      cleanup: () => database.drop(),
    };
  });
}
