import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { isModelportError } from "../src/core/errors.js";
import { type AuditLog, createAuditLog } from "../src/privacy/audit/audit-log.js";
import type { AuditEvent } from "../src/privacy/audit/audit-types.js";
import { entryHash, genesisHash } from "../src/privacy/audit/entry-hash.js";
import { signingKeyFileName } from "../src/privacy/audit/signing-key.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

interface Opened {
  database: DatabaseHandle;
  dataDir: string;
  cleanup(): Promise<void>;
}

const probe = await probePostgres();
const backends: { name: string; open(): Promise<Opened> }[] = [
  {
    name: "SQLite",
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-audit-"));
      const database = await openDatabase({ dataDir });
      return {
        database,
        dataDir,
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
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-audit-pg-"));
      const created = await createTestDatabase(probe.adminUrl);
      const database = await openDatabase({ databaseUrl: created.url, dataDir });
      return {
        database,
        dataDir,
        cleanup: async () => {
          await database.close();
          await created.drop();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  });
else reportPostgresUnavailable("audit trail on PostgreSQL", probe);

function clockFrom(start: string) {
  let now = Date.parse(start);
  return { now: () => now, monotonic: () => now, advance: (ms: number) => (now += ms) };
}

for (const backend of backends) {
  describe(`audit trail on ${backend.name}`, () => {
    let opened: Opened;
    let log: AuditLog;
    const masterKey = randomBytes(32);
    let clock = clockFrom("2026-01-01T00:00:00.000Z");

    before(async () => {
      opened = await backend.open();
    });
    after(async () => {
      await opened?.cleanup();
    });
    beforeEach(async () => {
      await opened.database.db.deleteFrom("audit_checkpoints").execute();
      await opened.database.db.deleteFrom("audit_entries").execute();
      clock = clockFrom("2026-01-01T00:00:00.000Z");
      log = createAuditLog({
        database: opened.database,
        masterKey,
        clock,
        dataDir: opened.dataDir,
        checkpointEvery: 4,
      });
    });

    it("chains entries: genesis first, each prev_hash the previous hash, each hash over canonical content", async () => {
      const first = await log.record({
        action: "tenant-created",
        actor: "admin",
        tenantId: "ten_a",
        target: "tenant:ten_a",
      });
      const second = await log.record({
        action: "api-key-created",
        actor: "admin",
        tenantId: "ten_a",
        details: { prefix: "mp_live_ab" },
      });
      assert.equal(first.seq, 1);
      assert.equal(first.prevHash, genesisHash);
      assert.equal(second.seq, 2);
      assert.equal(second.prevHash, first.hash);
      const { hash, ...fields } = second;
      assert.equal(hash, entryHash(fields));
      assert.match(hash, /^[0-9a-f]{64}$/);
      const stored = await opened.database.db
        .selectFrom("audit_entries")
        .selectAll()
        .where("seq", "=", 2)
        .executeTakeFirstOrThrow();
      assert.equal(stored.details_json, '{"prefix":"mp_live_ab"}');
      assert.equal(stored.tenant_id, "ten_a");
      assert.equal(stored.target, null);
    });

    it("stores sensitive fields only as HMAC-SHA256 under a key derived from the master key", async () => {
      const email = "alice.sensitive@example.com";
      const entry = await log.record({
        action: "data-exported",
        actor: "user:usr_1",
        tenantId: "ten_a",
        details: { rows: 12 },
        sensitive: { email, ip: "203.0.113.9" },
      });
      const hmac = entry.details.hmac as Record<string, string>;
      assert.equal(hmac.email, log.hmacOf(email));
      assert.match(hmac.ip ?? "", /^[0-9a-f]{64}$/);
      assert.notEqual(
        log.hmacOf(email),
        createAuditLog({ database: opened.database, masterKey: randomBytes(32) }).hmacOf(email),
      );
      const dump = JSON.stringify(await opened.database.db.selectFrom("audit_entries").selectAll().execute());
      assert.ok(!dump.includes(email) && !dump.includes("203.0.113.9"), "plaintext of a sensitive field was stored");
      assert.equal((await log.verify()).ok, true);
      await assert.rejects(
        log.record({ action: "data-exported", actor: "a", details: { hmac: "mine" }, sensitive: { x: "y" } }),
        (error: unknown) => isModelportError(error) && error.code === "MP_INTERNAL",
      );
    });

    it("rejects unknown actions, a missing actor and non-JSON details, appending nothing", async () => {
      const bad: AuditEvent[] = [
        { action: "key-frobbed" as never, actor: "admin" },
        { action: "config-changed", actor: "" },
        { action: "config-changed", actor: "admin", details: { ratio: Number.NaN } },
      ];
      for (const event of bad) await assert.rejects(log.record(event));
      assert.equal((await log.list()).entries.length, 0);
    });

    it("lists and filters by tenant, action, actor and time, newest first, with a cursor", async () => {
      const plan: [string | null, AuditEvent["action"], string][] = [
        ["ten_a", "api-key-created", "admin"],
        ["ten_b", "api-key-created", "admin"],
        ["ten_a", "api-key-revoked", "user:usr_1"],
        [null, "config-changed", "system"],
        ["ten_a", "policy-updated", "admin"],
      ];
      for (const [tenantId, action, actor] of plan) {
        await log.record({ action, actor, tenantId });
        clock.advance(60_000);
      }
      const all = await log.list();
      assert.deepEqual(
        all.entries.map((entry) => entry.seq),
        [5, 4, 3, 2, 1],
      );
      assert.deepEqual(
        (await log.list({ tenantId: "ten_a" })).entries.map((entry) => entry.action),
        ["policy-updated", "api-key-revoked", "api-key-created"],
      );
      assert.deepEqual(
        (await log.list({ action: "api-key-created", order: "asc" })).entries.map((entry) => entry.tenantId),
        ["ten_a", "ten_b"],
      );
      assert.deepEqual(
        (await log.list({ actor: "user:usr_1" })).entries.map((entry) => entry.seq),
        [3],
      );
      assert.deepEqual(
        (await log.list({ from: "2026-01-01T00:01:00Z", to: "2026-01-01T00:03:00.000Z" })).entries.map(
          (entry) => entry.seq,
        ),
        [3, 2],
      );
      const page1 = await log.list({ limit: 2 });
      assert.deepEqual(
        page1.entries.map((entry) => entry.seq),
        [5, 4],
      );
      assert.equal(page1.nextCursor, "4");
      const page2 = await log.list({ limit: 2, cursor: page1.nextCursor });
      const page3 = await log.list({ limit: 2, cursor: page2.nextCursor });
      assert.deepEqual(
        [...page2.entries, ...page3.entries].map((entry) => entry.seq),
        [3, 2, 1],
      );
      assert.equal(page3.nextCursor, undefined);
      for (const filter of [{ limit: 0 }, { limit: 1001 }, { cursor: "abc" }, { from: "yesterday" }])
        await assert.rejects(
          log.list(filter),
          (error: unknown) => isModelportError(error) && error.code === "MP_INVALID_REQUEST",
        );
    });

    it("signs a checkpoint every N entries and on demand, with a 0600 key file in the data dir", async () => {
      assert.equal(await log.createCheckpoint(), undefined, "nothing to sign on an empty trail");
      for (let index = 0; index < 9; index++)
        await log.record({ action: "model-promoted", actor: "admin", details: { index } });
      const checkpoints = await opened.database.db.selectFrom("audit_checkpoints").selectAll().orderBy("seq").execute();
      assert.deepEqual(
        checkpoints.map((row) => row.seq),
        [4, 8],
      );
      const onDemand = await log.createCheckpoint();
      assert.equal(onDemand?.seq, 9);
      assert.deepEqual(
        await log.createCheckpoint(),
        onDemand,
        "signing the same end twice returns the existing checkpoint",
      );
      const mode = statSync(join(opened.dataDir, signingKeyFileName)).mode & 0o777;
      assert.equal(mode, 0o600);
      assert.match(onDemand?.keyFingerprint ?? "", /^[0-9a-f]{64}$/);
      const verification = await log.verify();
      assert.deepEqual([verification.ok, verification.entries, verification.checkpoints], [true, 9, 3]);
    });

    it("concurrent appends in one process form one chain", async () => {
      const logs = [
        log,
        createAuditLog({ database: opened.database, masterKey, dataDir: opened.dataDir, checkpointEvery: 4 }),
      ];
      await Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          logs[index % 2]?.record({ action: "data-decrypted", actor: `worker:${index % 2}`, details: { index } }),
        ),
      );
      const verification = await log.verify();
      assert.equal(verification.ok, true, JSON.stringify(verification.firstBroken));
      assert.equal(verification.entries, 24);
      assert.equal(verification.checkpoints, 6);
    });
  });
}
