/**
 * The process the ledger crash test kills: it records usage as fast as it can and prints each
 * request id to stdout only after `record()` returned, i.e. after the point where the gateway
 * would acknowledge the response. The parent `kill -9`s it at a random moment.
 *
 * Environment: LEDGER_DATA_DIR (SQLite data dir; also holds the journal), LEDGER_DATABASE_URL
 * (optional postgres:// URL), LEDGER_RUN (request id prefix), LEDGER_COUNT (records to write),
 * LEDGER_MODE (`sync`: record(); `grouped`: recordGrouped(), acknowledged when its promise resolves).
 */
import { writeSync } from "node:fs";
import { openDatabase } from "../../../storage/database.js";
import { createLedger, journalPathFor } from "../ledger.js";
import { makeUsageRecord } from "./records.js";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** writeSync on a pipe the parent reads: stdout is non-blocking, so a full pipe gives EAGAIN; wait and retry. */
function print(line: string): void {
  const bytes = Buffer.from(line);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

const dataDir = process.env.LEDGER_DATA_DIR ?? "";
const run = process.env.LEDGER_RUN ?? "run";
const count = Number(process.env.LEDGER_COUNT ?? "100000");

const handle = await openDatabase({ dataDir, databaseUrl: process.env.LEDGER_DATABASE_URL });
const ledger = createLedger({ handle, journalPath: journalPathFor(dataDir), batchSize: 250, flushIntervalMs: 10 });
const replayed = await ledger.recover(); // what the server does at start-up
print(`ready ${replayed}\n`);

const usage = (i: number) =>
  makeUsageRecord(i, {
    requestId: `req_${run}_${i}`,
    tenantId: "ten_crash",
    keyId: `key_${i % 4}`,
    time: new Date(Date.UTC(2025, 4, 1) + i * 37_000).toISOString(),
  });

if (process.env.LEDGER_MODE === "grouped") {
  // 100 requests complete together; each is acknowledged when its group commit resolves.
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => {
        const record = usage(i + j);
        return ledger.recordGrouped(record).then(() => print(`${record.requestId}\n`));
      }),
    );
  }
} else {
  for (let i = 0; i < count; i += 1) {
    const record = usage(i);
    ledger.record(record);
    print(`${record.requestId}\n`); // acknowledged
    // Yield now and then so the background writer commits batches while we keep recording.
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
}
await ledger.close();
await handle.close();
print("done\n");
