/**
 * Encryption-at-rest overhead and audit append throughput.
 *
 *   node --import tsx bench/encryption/run.ts            # SQLite, plus PostgreSQL when reachable
 *   MODELPORT_BENCH_POSTGRES_URL=postgres://... node --import tsx bench/encryption/run.ts
 *
 * 1. Per stored request (a 2 KB prompt + 1 KB response): encryptField for both columns then
 *    decryptField for both (data keys warm in the LRU, as in a running server), against the
 *    reference measured in the same run: JSON.stringify + JSON.parse of the same record (what
 *    storing and reading it costs anyway, without encryption).
 * 2. Audit appends per second (sequential, one transaction each, a signed checkpoint every
 *    1,000) and chain verification throughput.
 * Each figure is the median of 5 rounds.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createAuditLog } from "../../src/privacy/audit/audit-log.js";
import { createFieldCipher } from "../../src/privacy/crypto/field-cipher.js";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.js";

const rounds = 5;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

function text(bytes: number): string {
  const words = ["the", "model", "please", "summarise", "invoice", "customer", "gateway", "policy", "é", "数据"];
  let out = "";
  while (Buffer.byteLength(out) < bytes) out += `${words[Math.floor(Math.random() * words.length)]} `;
  return out;
}

async function encryptionOverhead(database: DatabaseHandle) {
  const cipher = createFieldCipher({ database, masterKey: randomBytes(32) });
  const prompt = text(2048);
  const response = text(1024);
  const tenantId = "ten_bench";
  await cipher.encryptField({ tenantId, table: "request_logs", rowId: "warm", column: "prompt" }, "warm-up");
  const iterations = 5_000;
  const reference: number[] = [];
  const encrypted: number[] = [];
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    let start = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) {
      const stored = JSON.stringify({ id: `req_${index}`, prompt, response });
      const read = JSON.parse(stored) as { prompt: string; response: string };
      sink += read.prompt.length + read.response.length;
    }
    reference.push(Number(process.hrtime.bigint() - start) / 1_000 / iterations);

    start = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) {
      const rowId = `req_${index}`;
      const promptContext = { tenantId, table: "request_logs", rowId, column: "prompt" };
      const responseContext = { tenantId, table: "request_logs", rowId, column: "response" };
      const sealedPrompt = await cipher.encryptField(promptContext, prompt);
      const sealedResponse = await cipher.encryptField(responseContext, response);
      const stored = JSON.stringify({ id: rowId, prompt: sealedPrompt, response: sealedResponse });
      const read = JSON.parse(stored) as { prompt: string; response: string };
      sink += (await cipher.decryptField(promptContext, read.prompt)).length;
      sink += (await cipher.decryptField(responseContext, read.response)).length;
    }
    encrypted.push(Number(process.hrtime.bigint() - start) / 1_000 / iterations);
  }
  if (sink === 0) throw new Error("unreachable");
  const sample = await cipher.encryptField({ tenantId, table: "request_logs", rowId: "x", column: "prompt" }, prompt);
  return {
    referenceUs: median(reference),
    encryptedUs: median(encrypted),
    sizeGrowth: sample.length / Buffer.byteLength(prompt),
  };
}

async function auditThroughput(database: DatabaseHandle, dataDir: string) {
  const log = createAuditLog({ database, masterKey: randomBytes(32), dataDir, checkpointEvery: 1_000 });
  const appends: number[] = [];
  const verifies: number[] = [];
  const perRound = 2_000;
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    for (let index = 0; index < perRound; index++)
      await log.record({
        action: "data-decrypted",
        actor: "user:usr_bench",
        tenantId: "ten_bench",
        target: `request:req_${index}`,
        details: { round, index, columns: ["prompt", "response"] },
        sensitive: { ip: "203.0.113.7" },
      });
    appends.push(perRound / ((performance.now() - start) / 1_000));
    start = performance.now();
    const verification = await log.verify();
    if (!verification.ok) throw new Error(`chain broken: ${JSON.stringify(verification.firstBroken)}`);
    verifies.push(verification.entries / ((performance.now() - start) / 1_000));
  }
  return { appendsPerSecond: median(appends), verifiedPerSecond: median(verifies), entries: perRound * rounds };
}

async function postgresUrl(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = process.env.MODELPORT_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  const name = `mp_bench_${randomBytes(4).toString("hex")}`;
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = new pg.Client({ connectionString: admin });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "modelport-bench-encryption-"));
try {
  const sqlite = await openDatabase({ dataDir });
  const overhead = await encryptionOverhead(sqlite);
  const sqliteAudit = await auditThroughput(sqlite, dataDir);
  await sqlite.close();
  let pgAudit: Awaited<ReturnType<typeof auditThroughput>> | undefined;
  const postgres = await postgresUrl();
  if (postgres !== undefined) {
    const handle = await openDatabase({ databaseUrl: postgres.url, dataDir });
    try {
      pgAudit = await auditThroughput(handle, dataDir);
    } finally {
      await handle.close();
      await postgres.drop();
    }
  }

  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}`);
  console.log(`medians of ${rounds} rounds\n`);
  console.log("| per stored request (2 KB prompt + 1 KB response) | µs |");
  console.log("|---|---:|");
  console.log(`| reference: JSON.stringify + JSON.parse of the record | ${overhead.referenceUs.toFixed(1)} |`);
  console.log(
    `| with encryption: 2 × encryptField + 2 × decryptField + the same JSON | ${overhead.encryptedUs.toFixed(1)} |`,
  );
  console.log(`| added by encryption | ${(overhead.encryptedUs - overhead.referenceUs).toFixed(1)} |`);
  console.log(`| ratio (with / reference) | ${(overhead.encryptedUs / overhead.referenceUs).toFixed(2)}× |`);
  console.log(
    `| stored size of the prompt column (ciphertext / plaintext bytes) | ${overhead.sizeGrowth.toFixed(3)} |`,
  );
  console.log("");
  console.log("| audit trail | SQLite | PostgreSQL |");
  console.log("|---|---:|---:|");
  const pgCell = (value: number | undefined) => (value === undefined ? "n/a" : value.toFixed(0));
  console.log(
    `| appends/s (sequential, 1 transaction each) | ${sqliteAudit.appendsPerSecond.toFixed(0)} | ${pgCell(pgAudit?.appendsPerSecond)} |`,
  );
  console.log(
    `| entries verified/s (hash + links + checkpoints) | ${sqliteAudit.verifiedPerSecond.toFixed(0)} | ${pgCell(pgAudit?.verifiedPerSecond)} |`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
