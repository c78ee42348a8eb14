import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { createLedger, journalPathFor } from "../src/commerce/ledger/ledger.js";
import { integerFromDatabase } from "../src/commerce/money/database-integer.js";
import { openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

const child = new URL("../src/commerce/ledger/testing/crash-child.ts", import.meta.url).pathname;
const rounds = 4;

/**
 * Runs the child until it has acknowledged `killAfter` records, then SIGKILLs it. Returns the
 * request ids it acknowledged (printed after `record()` returned).
 */
function runAndKill(
  env: Record<string, string>,
  killAfter: number,
): Promise<{ acknowledged: string[]; replayed: number }> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ["--import", "tsx", child], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acknowledged: string[] = [];
    let replayed = -1;
    let pending = "";
    let stderr = "";
    let killed = false;
    process_.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    process_.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("ready ")) replayed = Number(line.slice(6));
        else if (line.startsWith("req_")) acknowledged.push(line);
      }
      if (!killed && acknowledged.length >= killAfter) {
        killed = true;
        process_.kill("SIGKILL");
      }
    });
    process_.on("exit", (code, signal) => {
      // A partial last line is an id whose print was cut by the kill: not acknowledged.
      if (signal === "SIGKILL") resolve({ acknowledged, replayed });
      else reject(new Error(`child exited with ${code} before the kill: ${stderr}`));
    });
  });
}

async function crashAndReconcile(databaseUrl: string | undefined): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "modelport-crash-"));
  try {
    const acknowledged: string[] = [];
    const replays: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const killAfter = 2_000 + Math.floor(Math.random() * 4_000);
      const result = await runAndKill(
        {
          LEDGER_DATA_DIR: dataDir,
          LEDGER_DATABASE_URL: databaseUrl ?? "",
          LEDGER_RUN: `r${round}`,
          LEDGER_COUNT: "1000000",
          // Alternate the two request-path APIs: sync record() and group-committed recordGrouped().
          LEDGER_MODE: round % 2 === 0 ? "sync" : "grouped",
        },
        killAfter,
      );
      assert.ok(result.acknowledged.length >= killAfter, `round ${round} acknowledged ${result.acknowledged.length}`);
      acknowledged.push(...result.acknowledged);
      replays.push(result.replayed);
    }

    // The restart: recover what the last victim left in its journal.
    const handle = await openDatabase({ dataDir, databaseUrl });
    try {
      const ledger = createLedger({ handle, journalPath: journalPathFor(dataDir) });
      await ledger.recover();
      await ledger.close();
      assert.equal(ledger.stats().journalPending, 0);

      const rows = await handle.db
        .selectFrom("usage_records")
        .select("request_id")
        .where("tenant_id", "=", "ten_crash")
        .execute();
      const inLedger = new Map<string, number>();
      for (const row of rows) inLedger.set(row.request_id, (inLedger.get(row.request_id) ?? 0) + 1);
      const missing = acknowledged.filter((id) => !inLedger.has(id));
      const duplicated = [...inLedger.entries()].filter(([, n]) => n > 1);
      assert.equal(new Set(acknowledged).size, acknowledged.length, "the client log has no repeats");
      assert.deepEqual(missing, [], `${missing.length} acknowledged requests are missing from the ledger`);
      assert.deepEqual(duplicated, [], "no request is billed twice");

      // The rollup moved in the same transactions: it counts exactly the records.
      const rollup = await handle.db
        .selectFrom("usage_daily")
        .select([sql<unknown>`sum(requests)`.as("requests"), sql<unknown>`sum(cost_micros)`.as("cost")])
        .where("tenant_id", "=", "ten_crash")
        .executeTakeFirstOrThrow();
      const records = await handle.db
        .selectFrom("usage_records")
        .select(sql<unknown>`sum(cost_micros)`.as("cost"))
        .where("tenant_id", "=", "ten_crash")
        .executeTakeFirstOrThrow();
      assert.equal(integerFromDatabase(rollup.requests, "requests"), rows.length);
      assert.equal(integerFromDatabase(rollup.cost, "cost"), integerFromDatabase(records.cost, "cost"));
      console.log(
        `crash test: ${rounds} kills, ${acknowledged.length} acknowledged, ${rows.length} in the ledger ` +
          `(${rows.length - acknowledged.length} recorded but not yet acknowledged), journal replays at start-up: ${replays.join(", ")}`,
      );
    } finally {
      await handle.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe("ledger survives kill -9: every acknowledged request billed exactly once", () => {
  it("on SQLite", async () => {
    await crashAndReconcile(undefined);
  });
});

const probe = await probePostgres();
if (probe.state !== "ready") {
  reportPostgresUnavailable("ledger crash test on PostgreSQL", probe);
} else {
  describe("ledger survives kill -9 on PostgreSQL", () => {
    it("on PostgreSQL", async () => {
      const database = await createTestDatabase(probe.adminUrl);
      try {
        await crashAndReconcile(database.url);
      } finally {
        await database.drop();
      }
    });
  });
}
