import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { createAuditLog } from "../src/privacy/audit/audit-log.js";
import type { JsonValue } from "../src/privacy/audit/audit-types.js";
import { entryHash, genesisHash } from "../src/privacy/audit/entry-hash.js";
import { createAuditSigner, loadOrCreateAuditSigner } from "../src/privacy/audit/signing-key.js";
import { verifyAuditChain } from "../src/privacy/audit/verify-chain.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { type CliResult, runCli } from "./helpers/cli.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

const root = new URL("..", import.meta.url).pathname;
const source = (path: string) => pathToFileURL(join(root, path)).href;

interface Opened {
  database: DatabaseHandle;
  dataDir: string;
  /** `MODELPORT_DATABASE_URL` for child processes ("" = SQLite in dataDir). */
  databaseUrl: string;
  cleanup(): Promise<void>;
}

const probe = await probePostgres();
const backends: { name: string; open(): Promise<Opened> }[] = [
  {
    name: "SQLite",
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-tamper-"));
      const database = await openDatabase({ dataDir });
      return {
        database,
        dataDir,
        databaseUrl: "",
        cleanup: async () => {
          await database.close();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
];
if (probe.state === "ready")
  backends.push({
    name: "PostgreSQL",
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-tamper-pg-"));
      const created = await createTestDatabase(probe.adminUrl);
      const database = await openDatabase({ databaseUrl: created.url, dataDir });
      return {
        database,
        dataDir,
        databaseUrl: created.url,
        cleanup: async () => {
          await database.close();
          await created.drop();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  });
else reportPostgresUnavailable("audit tamper detection on PostgreSQL", probe);

function runNode(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `modelport audit ...`: through bin/modelport.js once src/cli/main.ts registers the command,
 * until then through a harness that wires registerAudit the way main.ts wires commands.
 */
const registeredInMain = readFileSync(join(root, "src/cli/main.ts"), "utf8").includes("registerAudit");
let harness: string | undefined;
async function modelportAudit(args: string[], env: Record<string, string>): Promise<CliResult> {
  if (registeredInMain) return runCli(["audit", ...args], env);
  if (harness === undefined) {
    harness = join(await mkdtemp(join(tmpdir(), "modelport-audit-cli-")), "harness.mjs");
    writeFileSync(
      harness,
      `import { createRequire } from "node:module";
const { Command, CommanderError } = createRequire(${JSON.stringify(join(root, "package.json"))})("commander");
const { registerAudit } = await import(${JSON.stringify(source("src/cli/commands/audit.ts"))});
const { reportError } = await import(${JSON.stringify(source("src/cli/output.ts"))});
const program = new Command("modelport").exitOverride();
registerAudit(program);
for (const command of program.commands) { command.exitOverride(); for (const sub of command.commands) sub.exitOverride(); }
let code = 0;
try { await program.parseAsync(process.argv); }
catch (error) { code = error instanceof CommanderError ? (error.exitCode === 0 ? 0 : 2) : reportError(error); }
process.exit(code);
`,
    );
  }
  return runNode([harness, "audit", ...args], env);
}

const appender = `
const [dataDir, databaseUrl, actor, count, startAt] = process.argv.slice(2);
const { openDatabase } = await import(${JSON.stringify(source("src/storage/database.ts"))});
const { createAuditLog } = await import(${JSON.stringify(source("src/privacy/audit/audit-log.ts"))});
const database = await openDatabase({ databaseUrl: databaseUrl || undefined, dataDir });
const log = createAuditLog({ database, masterKey: Buffer.alloc(32, 7), dataDir, checkpointEvery: 7 });
// Both processes start appending at the same moment, whatever their start-up times.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
// A short pause between appends, as real traffic has: SQLite's busy handler is not fair, so a
// process appending in a tight loop could otherwise finish before the other one gets the lock.
for (let index = 0; index < Number(count); index++) {
  await log.record({ action: "data-exported", actor, details: { index } });
  await new Promise((resolve) => setTimeout(resolve, 3));
}
await database.close();
`;

for (const backend of backends) {
  describe(`audit tamper detection on ${backend.name}`, () => {
    let opened: Opened;
    const masterKey = randomBytes(32);

    before(async () => {
      opened = await backend.open();
    });
    after(async () => {
      await opened?.cleanup();
    });

    /** Ten entries, signed checkpoints at 5 and 10 with the data dir's key. */
    beforeEach(async () => {
      const { db } = opened.database;
      await db.deleteFrom("audit_checkpoints").execute();
      await db.deleteFrom("audit_entries").execute();
      const log = createAuditLog({ database: opened.database, masterKey, dataDir: opened.dataDir, checkpointEvery: 5 });
      for (let index = 1; index <= 10; index++)
        await log.record({ action: "config-changed", actor: "admin", target: `setting:${index}`, details: { index } });
    });

    const trusted = () => [loadOrCreateAuditSigner(opened.dataDir).publicKey];
    const verify = () => verifyAuditChain(opened.database, { trustedKeys: trusted() });
    const setSeq = (from: number, to: number) =>
      opened.database.db.updateTable("audit_entries").set({ seq: to }).where("seq", "=", from).execute();

    it("an intact chain verifies, with both checkpoints", async () => {
      const result = await verify();
      assert.deepEqual([result.ok, result.entries, result.checkpoints, result.firstBroken], [true, 10, 2, undefined]);
    });

    it("finds an edited entry", async () => {
      await opened.database.db
        .updateTable("audit_entries")
        .set({ details_json: '{"index":40}' })
        .where("seq", "=", 4)
        .execute();
      assert.deepEqual((await verify()).firstBroken, { seq: 4, kind: "edited", reason: "hash mismatch (edited)" });
    });

    it("finds an edited actor even when details are untouched", async () => {
      await opened.database.db.updateTable("audit_entries").set({ actor: "nobody" }).where("seq", "=", 7).execute();
      assert.deepEqual((await verify()).firstBroken?.seq, 7);
    });

    it("finds a deleted entry (a gap), and one hidden by renumbering the rest", async () => {
      await opened.database.db.deleteFrom("audit_entries").where("seq", "=", 4).execute();
      assert.deepEqual((await verify()).firstBroken, { seq: 4, kind: "deleted", reason: "missing (deleted)" });
      for (let seq = 5; seq <= 10; seq++) await setSeq(seq, seq - 1);
      const renumbered = (await verify()).firstBroken;
      assert.equal(renumbered?.seq, 4);
      assert.equal(renumbered?.kind, "deleted");
      assert.match(renumbered?.reason ?? "", /entry 5 renumbered to 4/);
    });

    it("finds reordered entries", async () => {
      await setSeq(4, 1000);
      await setSeq(3, 4);
      await setSeq(1000, 3);
      assert.deepEqual((await verify()).firstBroken, {
        seq: 3,
        kind: "reordered",
        reason: "out of order (reordered): entry 4 found at 3",
      });
    });

    it("finds a truncated tail through the latest signed checkpoint", async () => {
      await opened.database.db.deleteFrom("audit_entries").where("seq", ">=", 9).execute();
      const result = await verify();
      assert.equal(result.ok, false);
      assert.deepEqual(result.firstBroken, {
        seq: 9,
        kind: "truncated",
        reason: "missing (truncated: a signed checkpoint covers entry 10)",
      });
    });

    it("finds a chain rewritten and re-hashed end to end (the signed checkpoint disagrees)", async () => {
      const { db } = opened.database;
      const rows = await db.selectFrom("audit_entries").selectAll().orderBy("seq").execute();
      let previous = genesisHash;
      for (const row of rows) {
        const details = row.seq === 2 ? { index: 200 } : (JSON.parse(row.details_json) as Record<string, JsonValue>);
        const fields = {
          seq: row.seq,
          time: row.time,
          tenantId: row.tenant_id,
          actor: row.actor,
          action: row.action,
          target: row.target,
          details,
          prevHash: previous,
        };
        previous = entryHash(fields);
        await db
          .updateTable("audit_entries")
          .set({ details_json: JSON.stringify(details), prev_hash: fields.prevHash, hash: previous })
          .where("seq", "=", row.seq)
          .execute();
      }
      assert.deepEqual((await verify()).firstBroken?.kind, "checkpoint-mismatch");
      assert.deepEqual((await verify()).firstBroken?.seq, 5);
    });

    it("finds a forged checkpoint signature", async () => {
      const { db } = opened.database;
      const checkpoint = await db
        .selectFrom("audit_checkpoints")
        .selectAll()
        .where("seq", "=", 5)
        .executeTakeFirstOrThrow();
      const forged = Buffer.from(checkpoint.signature, "base64");
      forged[10] = (forged[10] ?? 0) ^ 0x01;
      await db
        .updateTable("audit_checkpoints")
        .set({ signature: forged.toString("base64") })
        .where("seq", "=", 5)
        .execute();
      assert.deepEqual((await verify()).firstBroken, {
        seq: 5,
        kind: "checkpoint-forged",
        reason: "checkpoint signature invalid (forged)",
      });
    });

    it("rejects a checkpoint moved to cover a rewritten hash (the signature covers the hash)", async () => {
      const { db } = opened.database;
      await db
        .updateTable("audit_checkpoints")
        .set({ hash: "f".repeat(64) })
        .where("seq", "=", 10)
        .execute();
      assert.deepEqual((await verify()).firstBroken?.kind, "checkpoint-forged");
    });

    it("rejects a checkpoint made with another key unless that key is trusted", async () => {
      const { db } = opened.database;
      await db.deleteFrom("audit_checkpoints").where("seq", "=", 10).execute();
      const other = createAuditSigner(generateKeyPairSync("ed25519").privateKey);
      const checkpoint = await createAuditLog({
        database: opened.database,
        masterKey,
        signer: other,
      }).createCheckpoint();
      assert.equal(checkpoint?.keyFingerprint, other.fingerprint);
      const result = await verify();
      assert.equal(result.firstBroken?.seq, 10);
      assert.equal(result.firstBroken?.kind, "checkpoint-untrusted");
      const trustingBoth = await verifyAuditChain(opened.database, { trustedKeys: [...trusted(), other.publicKey] });
      assert.equal(trustingBoth.ok, true);
    });

    it("concurrent appends from two processes form one valid chain", async () => {
      const { db } = opened.database;
      await db.deleteFrom("audit_checkpoints").execute();
      await db.deleteFrom("audit_entries").execute();
      const script = join(opened.dataDir, "append.mjs");
      writeFileSync(script, appender);
      const startAt = String(Date.now() + 5_000);
      const results = await Promise.all(
        ["proc:a", "proc:b"].map((actor) =>
          runNode([script, opened.dataDir, opened.databaseUrl, actor, "40", startAt], {}),
        ),
      );
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const verification = await verify();
      assert.equal(verification.ok, true, JSON.stringify(verification.firstBroken));
      assert.equal(verification.entries, 80);
      assert.equal(verification.checkpoints, 11); // 7, 14, ..., 77
      const rows = await db.selectFrom("audit_entries").select(["seq", "actor"]).orderBy("seq").execute();
      assert.equal(rows.filter((row) => row.actor === "proc:a").length, 40);
      // Both really ran at once: their entries interleave rather than forming two blocks.
      const switches = rows.filter((row, index) => index > 0 && rows[index - 1]?.actor !== row.actor).length;
      assert.ok(switches > 1, `entries did not interleave (${switches} switches)`);
    });

    it("modelport audit verify / list: exit 0 when intact, 1 naming the first broken entry", async () => {
      const env = { MODELPORT_DATABASE_URL: opened.databaseUrl };
      const flags = ["--data-dir", opened.dataDir];
      const intact = await modelportAudit(["verify", ...flags], env);
      assert.equal(intact.code, 0, intact.stderr);
      assert.match(intact.stdout, /audit trail intact: 10 entries, 2 signed checkpoints/);
      const intactJson = await modelportAudit(["verify", "--json", ...flags], env);
      assert.equal(intactJson.code, 0, intactJson.stderr);
      assert.deepEqual(JSON.parse(intactJson.stdout), { ok: true, entries: 10, checkpoints: 2 });

      const listed = await modelportAudit(
        ["list", "--json", "--action", "config-changed", "--limit", "3", ...flags],
        env,
      );
      assert.equal(listed.code, 0, listed.stderr);
      const page = JSON.parse(listed.stdout) as { entries: { seq: number }[]; nextCursor: string };
      assert.deepEqual(
        page.entries.map((entry) => entry.seq),
        [10, 9, 8],
      );
      assert.equal(page.nextCursor, "8");

      await opened.database.db
        .updateTable("audit_entries")
        .set({ details_json: '{"index":1}' })
        .where("seq", "=", 6)
        .execute();
      const broken = await modelportAudit(["verify", ...flags], env);
      assert.equal(broken.code, 1);
      assert.equal(broken.stderr, "modelport: MP_AUDIT_BROKEN: entry 6: hash mismatch (edited)\n");
      const brokenJson = await modelportAudit(["verify", "--json", ...flags], env);
      assert.equal(brokenJson.code, 1);
      assert.deepEqual(JSON.parse(brokenJson.stdout), {
        ok: false,
        entries: 5,
        checkpoints: 2,
        firstBroken: { seq: 6, kind: "edited", reason: "hash mismatch (edited)" },
      });
      const usage = await modelportAudit(["list", "--limit", "0", ...flags], env);
      assert.equal(usage.code, 2);
    });
  });
}
