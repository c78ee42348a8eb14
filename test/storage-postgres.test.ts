import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { storageContractSuite } from "../src/core/testing/storage-contract.js";
import { openDatabase, openStorage } from "../src/storage/database.js";
import { migrations } from "../src/storage/migrations/index.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

// PostgreSQL never reads the data dir; openStorage still requires one.
const dataDir = "/nonexistent-modelport-data-dir";
const probe = await probePostgres();

if (probe.state !== "ready") {
  reportPostgresUnavailable("PostgreSQL storage", probe);
} else {
  let database: Promise<PostgresTestDatabase> | undefined;
  storageContractSuite(
    "PostgreSQL (pg)",
    async () => {
      database ??= createTestDatabase(probe.adminUrl);
      return openStorage({ databaseUrl: (await database).url, dataDir });
    },
    async () => {
      await (await database)?.drop();
    },
  );

  describe("PostgreSQL migrations", () => {
    let fresh: PostgresTestDatabase;
    before(async () => {
      fresh = await createTestDatabase(probe.adminUrl);
    });
    after(async () => {
      await fresh?.drop();
    });

    it("four pools (separate sessions) migrating one fresh database at once all succeed, and it is migrated once", async () => {
      const handles = await Promise.all(
        Array.from({ length: 4 }, () => openDatabase({ databaseUrl: fresh.url, dataDir })),
      );
      try {
        const [first] = handles;
        assert.ok(first);
        const applied = await first.db
          .selectFrom("kysely_migration" as never)
          .select("name" as never)
          .execute();
        assert.deepEqual(
          applied.map((row) => row.name).sort(),
          Object.keys(migrations).sort(),
          "each migration applied exactly once",
        );
        for (const handle of handles) assert.equal(handle.dialect, "postgres");
        assert.doesNotMatch(first.location, /:[^/@]*@/, "location carries no password");
        assert.match(first.location, new RegExp(`/${fresh.name}$`));
      } finally {
        await Promise.all(handles.map((handle) => handle.close()));
      }
    });
  });
}
