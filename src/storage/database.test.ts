import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql } from "kysely";
import { ModelportError } from "../core/errors.js";
import { openDatabase, openStorage } from "./database.js";
import { migrations } from "./migrations/index.js";

const run = promisify(execFile);

async function storageError(promise: Promise<unknown>): Promise<ModelportError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ModelportError, `expected a ModelportError, got ${String(error)}`);
    assert.equal(error.code, "MP_STORAGE_ERROR");
    return error;
  }
  assert.fail("expected the call to fail");
}

async function appliedMigrations(dataDir: string): Promise<string[]> {
  const handle = await openDatabase({ dataDir });
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db);
    return rows.map((row) => row.name);
  } finally {
    await handle.close();
  }
}

describe("openDatabase / openStorage", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "modelport-database-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe("PostgreSQL URLs", () => {
    it("fails with MP_STORAGE_ERROR naming the host, never the password, when the server is unreachable", async () => {
      const error = await storageError(
        openStorage({ databaseUrl: "postgres://modelport:s3cr%40t-pw@127.0.0.1:1/prod", dataDir: root }),
      );
      assert.match(error.message, /127\.0\.0\.1:1\/prod/);
      assert.match(error.message, /modelport@/);
      assert.ok(!error.message.includes("s3cr"), `password leaked: ${error.message}`);
      assert.ok(error.cause !== undefined, "the driver error is kept as cause");
    });

    it("accepts the postgresql:// scheme too", async () => {
      const error = await storageError(
        openStorage({ databaseUrl: "postgresql://u:hunter2@127.0.0.1:1/x", dataDir: root }),
      );
      assert.match(error.message, /cannot connect to PostgreSQL at postgres:\/\/u@127\.0\.0\.1:1\/x/);
      assert.ok(!error.message.includes("hunter2"));
    });

    it("rejects a malformed URL without echoing it", async () => {
      const error = await storageError(
        openStorage({ databaseUrl: "postgres://u:hunter2@[not-a-host/db", dataDir: root }),
      );
      assert.match(error.message, /not a valid URL/);
      assert.ok(!error.message.includes("hunter2"));
    });

    it("rejects other schemes, naming the scheme and not the password", async () => {
      const error = await storageError(openStorage({ databaseUrl: "mysql://u:hunter2@localhost/db", dataDir: root }));
      assert.match(error.message, /'mysql:'/);
      assert.ok(!error.message.includes("hunter2"));
    });
  });

  describe("SQLite", () => {
    it("creates <dataDir>/modelport.db with WAL, NORMAL sync, foreign keys and a busy timeout", async () => {
      const dataDir = join(root, "nested", "data");
      const handle = await openDatabase({ dataDir });
      try {
        assert.equal(handle.dialect, "sqlite");
        assert.equal(handle.location, join(dataDir, "modelport.db"));
        assert.ok(existsSync(join(dataDir, "modelport.db")));
        const pragma = async (name: string): Promise<unknown> => {
          const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(handle.db);
          return Object.values(rows[0] ?? {})[0];
        };
        assert.equal(await pragma("journal_mode"), "wal");
        assert.equal(await pragma("synchronous"), 1, "1 is NORMAL");
        assert.equal(await pragma("foreign_keys"), 1);
        assert.equal(await pragma("busy_timeout"), 5000);
      } finally {
        await handle.close();
        await handle.close(); // closing twice is safe
      }
    });

    it("treats an empty database URL as unset (SQLite)", async () => {
      const storage = await openStorage({ databaseUrl: "  ", dataDir: join(root, "empty-url") });
      try {
        assert.equal(storage.dialect, "sqlite");
        assert.equal(await storage.ping(), true);
      } finally {
        await storage.close();
      }
    });

    it("fails with MP_STORAGE_ERROR naming the file when the data dir is unusable", async () => {
      const notADirectory = join(root, "a-file");
      await writeFile(notADirectory, "x");
      const error = await storageError(openStorage({ dataDir: notADirectory }));
      assert.ok(error.message.includes(join(notADirectory, "modelport.db")), error.message);
    });

    it("applies every migration once; opening again applies nothing new", async () => {
      const dataDir = join(root, "migrations");
      await (await openStorage({ dataDir })).close();
      const names = Object.keys(migrations);
      assert.deepEqual(await appliedMigrations(dataDir), names);
      await (await openStorage({ dataDir })).close();
      assert.deepEqual(await appliedMigrations(dataDir), names);
    });

    it("three processes opening one fresh database at once all succeed; one wins setIfAbsent", async () => {
      const dataDir = join(root, "processes");
      const databaseModule = fileURLToPath(new URL("./database.ts", import.meta.url));
      const script = `
        const { openStorage } = await import(${JSON.stringify(databaseModule)});
        const storage = await openStorage({ dataDir: ${JSON.stringify(dataDir)} });
        const won = await storage.settings.setIfAbsent("bootstrap", String(process.pid));
        await storage.close();
        console.log(JSON.stringify({ won }));`;
      const outputs = await Promise.all(
        Array.from({ length: 3 }, () =>
          run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 }),
        ),
      );
      const wins = outputs.map(({ stdout }) => (JSON.parse(stdout.trim()) as { won: boolean }).won);
      assert.equal(wins.filter((won) => won).length, 1, `wins: ${JSON.stringify(wins)}`);
      assert.deepEqual(await appliedMigrations(dataDir), Object.keys(migrations));
    });
  });

  it("lists migrations with zero-padded sequence names, in order", () => {
    const names = Object.keys(migrations);
    assert.ok(names.length > 0);
    for (const name of names) assert.match(name, /^\d{4}-[a-z0-9-]+$/);
    assert.deepEqual(names, [...names].sort());
  });
});
