import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "kysely";
import { isModelportError } from "../src/core/errors.js";
import { createAuditLog } from "../src/privacy/audit/audit-log.js";
import { createFieldCipher, type FieldCipher } from "../src/privacy/crypto/field-cipher.js";
import { rewrapFields, rewrapStoredData, rewrapTable } from "../src/privacy/crypto/rewrap.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { createTestDatabase, probePostgres, reportPostgresUnavailable } from "./helpers/postgres.js";

interface Backend {
  name: string;
  open(): Promise<{ database: DatabaseHandle; dataDir: string; cleanup(): Promise<void> }>;
}

const probe = await probePostgres();
const backends: Backend[] = [
  {
    name: "SQLite",
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), "modelport-crypto-"));
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
      const created = await createTestDatabase(probe.adminUrl);
      const database = await openDatabase({ databaseUrl: created.url, dataDir: "/nonexistent-modelport-data-dir" });
      return {
        database,
        dataDir: "/nonexistent-modelport-data-dir",
        cleanup: async () => {
          await database.close();
          await created.drop();
        },
      };
    },
  });
else reportPostgresUnavailable("envelope encryption on PostgreSQL", probe);

function rejectsWith(code: string, status?: number) {
  return (error: unknown) => {
    assert.ok(isModelportError(error), `expected a ModelportError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (status !== undefined) assert.equal(error.status, status);
    return true;
  };
}

/** Flips one bit of the binary payload at `index` (negative counts from the end). */
function flipBit(ciphertext: string, index: number): string {
  const [prefix, version, body] = ciphertext.split(".");
  const bytes = Buffer.from(body ?? "", "base64url");
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] ?? 0) ^ 0x04;
  return `${prefix}.${version}.${bytes.toString("base64url")}`;
}

const context = (tenantId: string, rowId = "req_1", column = "prompt") => ({
  tenantId,
  table: "request_logs",
  rowId,
  column,
});

for (const backend of backends) {
  describe(`envelope encryption on ${backend.name}`, () => {
    let opened: Awaited<ReturnType<Backend["open"]>>;
    let masterKey: Buffer;
    let cipher: FieldCipher;
    let tenant: string;
    const prompt = "My card is 4111 1111 1111 1111 and my name is Zoë 张伟 — please summarise.";

    before(async () => {
      opened = await backend.open();
    });
    after(async () => {
      await opened?.cleanup();
    });
    beforeEach(() => {
      masterKey = randomBytes(32);
      cipher = createFieldCipher({ database: opened.database, masterKey });
      tenant = `ten_${randomBytes(6).toString("hex")}`;
    });

    it("round-trips text (unicode, empty) in a compact self-describing string; nonces are fresh", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      assert.match(sealed, /^mpe1\.1\.[A-Za-z0-9_-]+$/);
      assert.ok(!sealed.includes("4111"));
      assert.equal(await cipher.decryptField(context(tenant), sealed), prompt);
      assert.notEqual(await cipher.encryptField(context(tenant), prompt), sealed, "same plaintext, different nonce");
      const empty = await cipher.encryptField(context(tenant), "");
      assert.equal(await cipher.decryptField(context(tenant), empty), "");
      // 12-byte nonce + 16-byte tag of overhead, base64url
      assert.equal(Buffer.from(empty.split(".")[2] ?? "", "base64url").length, 28);
    });

    it("fails with MP_DECRYPT_FAILED when one bit of the nonce, ciphertext or tag flips", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      for (const [where, index] of [
        ["nonce", 0],
        ["nonce end", 11],
        ["ciphertext", 12],
        ["ciphertext end", -17],
        ["tag", -16],
        ["tag end", -1],
      ] as const)
        await assert.rejects(
          cipher.decryptField(context(tenant), flipBit(sealed, index)),
          rejectsWith("MP_DECRYPT_FAILED"),
          where,
        );
      await assert.rejects(cipher.decryptField(context(tenant), sealed.slice(0, 20)), rejectsWith("MP_DECRYPT_FAILED"));
      await assert.rejects(cipher.decryptField(context(tenant), "plain text"), rejectsWith("MP_DECRYPT_FAILED"));
    });

    it("binds tenant, table, row, column and key version: a moved or relabelled value does not decrypt", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      const other = `ten_${randomBytes(6).toString("hex")}`;
      await cipher.encryptField(context(other), "the other tenant has a key too");
      const moved = [
        context(tenant, "req_2"),
        context(tenant, "req_1", "response"),
        { ...context(tenant), table: "datasets" },
        context(other),
      ];
      for (const place of moved)
        await assert.rejects(
          cipher.decryptField(place, sealed),
          rejectsWith("MP_DECRYPT_FAILED"),
          JSON.stringify(place),
        );
      await cipher.rotateTenantKey(tenant);
      // relabelling the key version picks a real key but the associated data no longer matches
      await assert.rejects(
        cipher.decryptField(context(tenant), sealed.replace(/^mpe1\.1\./, "mpe1.2.")),
        rejectsWith("MP_DECRYPT_FAILED"),
      );
      await assert.rejects(
        cipher.decryptField(context(tenant), sealed.replace(/^mpe1\.1\./, "mpe1.9.")),
        rejectsWith("MP_DECRYPT_FAILED"),
      );
      assert.equal(await cipher.decryptField(context(tenant), sealed), prompt);
    });

    it("stores data keys only wrapped, bound to their tenant: a wrapped key copied to another tenant fails", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      const key = (await cipher.keys.current(tenant)).key.export();
      const rows = await opened.database.db
        .selectFrom("tenant_data_keys")
        .selectAll()
        .where("tenant_id", "=", tenant)
        .execute();
      assert.equal(rows.length, 1);
      const row = rows[0];
      assert.ok(row?.wrapped_key);
      const dump = JSON.stringify(rows);
      for (const encoding of ["hex", "base64", "base64url"] as const) assert.ok(!dump.includes(key.toString(encoding)));
      assert.equal(row.kek_id, cipher.keys.kekId);

      const victim = `ten_${randomBytes(6).toString("hex")}`;
      await cipher.encryptField(context(victim), "x");
      await opened.database.db
        .updateTable("tenant_data_keys")
        .set({ wrapped_key: row.wrapped_key })
        .where("tenant_id", "=", victim)
        .execute();
      const fresh = createFieldCipher({ database: opened.database, masterKey });
      await assert.rejects(fresh.encryptField(context(victim), "y"), rejectsWith("MP_DECRYPT_FAILED"));
      assert.equal(await fresh.decryptField(context(tenant), sealed), prompt);
      // and another master key cannot unwrap at all
      const stranger = createFieldCipher({ database: opened.database, masterKey: randomBytes(32) });
      await assert.rejects(stranger.decryptField(context(tenant), sealed), rejectsWith("MP_DECRYPT_FAILED"));
    });

    it("rotation: new writes use the new version, old data still decrypts (also in a fresh process)", async () => {
      const old = await cipher.encryptField(context(tenant), "written under v1");
      assert.equal(await cipher.rotateTenantKey(tenant), 2);
      const current = await cipher.encryptField(context(tenant, "req_2"), "written under v2");
      assert.equal(cipher.keyVersionOf(old), 1);
      assert.equal(cipher.keyVersionOf(current), 2);
      const fresh = createFieldCipher({ database: opened.database, masterKey });
      assert.equal(await fresh.decryptField(context(tenant), old), "written under v1");
      assert.equal(await fresh.decryptField(context(tenant, "req_2"), current), "written under v2");
      assert.equal(fresh.keyVersionOf(await fresh.encryptField(context(tenant), "x")), 2);
      assert.deepEqual(
        (await cipher.keys.list(tenant)).map((key) => [key.version, key.destroyedAt]),
        [
          [1, null],
          [2, null],
        ],
      );
    });

    it("concurrent first writes for a new tenant share one data key", async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          createFieldCipher({ database: opened.database, masterKey }).encryptField(
            context(tenant, `req_${index}`),
            `n${index}`,
          ),
        ),
      );
      assert.equal((await cipher.keys.list(tenant)).length, 1);
      for (const [index, sealed] of results.entries())
        assert.equal(await cipher.decryptField(context(tenant, `req_${index}`), sealed), `n${index}`);
    });

    it("rewrap: re-encrypts a table's values under the newest key, skipping plaintext and counting tampered rows", async () => {
      const { db } = opened.database;
      await sql`create table if not exists notes (id text primary key, tenant_id text not null, body text, summary text)`.execute(
        db,
      );
      await sql`delete from notes`.execute(db);
      const other = `ten_${randomBytes(6).toString("hex")}`;
      const expected = new Map<string, string>();
      for (let index = 0; index < 7; index++) {
        const owner = index % 2 === 0 ? tenant : other;
        const id = `note_${String(index).padStart(2, "0")}`;
        const place = { tenantId: owner, table: "notes", rowId: id };
        const body = await cipher.encryptField({ ...place, column: "body" }, `body ${index}`);
        const summary =
          index === 3 ? null : await cipher.encryptField({ ...place, column: "summary" }, `summary ${index}`);
        await sql`insert into notes (id, tenant_id, body, summary) values (${id}, ${owner}, ${body}, ${summary})`.execute(
          db,
        );
        expected.set(`${id}.body`, `body ${index}`);
        if (summary !== null) expected.set(`${id}.summary`, `summary ${index}`);
      }
      await sql`insert into notes (id, tenant_id, body, summary) values ('note_legacy', ${tenant}, 'legacy plaintext', null)`.execute(
        db,
      );
      // note_04's body is tampered with: it must be reported and left alone
      const tampered = await sql<{ body: string }>`select body from notes where id = 'note_04'`.execute(db);
      const tamperedBody = flipBit(tampered.rows[0]?.body ?? "", 14);
      await sql`update notes set body = ${tamperedBody} where id = 'note_04'`.execute(db);
      expected.delete("note_04.body");

      await cipher.rotateTenantKey(tenant);
      await cipher.rotateTenantKey(other);
      const spec = { table: "notes", idColumn: "id", tenantColumn: "tenant_id", columns: ["body", "summary"] };
      const report = await rewrapTable(opened.database, cipher, spec, { batchSize: 3 });
      assert.equal(report.scanned, 13);
      assert.equal(report.rewrapped, 12);
      assert.equal(report.failed, 1);
      assert.deepEqual(report.failures[0]?.context, {
        tenantId: tenant,
        table: "notes",
        rowId: "note_04",
        column: "body",
      });
      assert.equal(report.failures[0]?.code, "MP_DECRYPT_FAILED");

      const rows = await sql<{
        id: string;
        tenant_id: string;
        body: string;
        summary: string | null;
      }>`select * from notes`.execute(db);
      for (const row of rows.rows) {
        if (row.id === "note_legacy") {
          assert.equal(row.body, "legacy plaintext");
          continue;
        }
        for (const column of ["body", "summary"] as const) {
          const value = row[column];
          const want = expected.get(`${row.id}.${column}`);
          if (want === undefined) continue;
          assert.ok(value);
          assert.equal(cipher.keyVersionOf(value), 2, `${row.id}.${column}`);
          assert.equal(
            await cipher.decryptField({ tenantId: row.tenant_id, table: "notes", rowId: row.id, column }, value),
            want,
          );
        }
      }
      assert.equal(rows.rows.find((row) => row.id === "note_04")?.body, tamperedBody);

      const audit = createAuditLog({ database: opened.database, masterKey });
      const again = await rewrapStoredData(opened.database, cipher, [spec], { audit, actor: "cli" });
      assert.equal(again.total.alreadyCurrent, 12);
      assert.equal(again.total.rewrapped, 0);
      const logged = await audit.list({ action: "data-reencrypted", limit: 1 });
      assert.equal(logged.entries[0]?.actor, "cli");
      assert.equal(logged.entries[0]?.details.alreadyCurrent, undefined);
      assert.equal(logged.entries[0]?.details.scanned, 13);
    });

    it("rewrapFields does not overwrite a value changed concurrently (compare-and-set updater)", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      await cipher.rotateTenantKey(tenant);
      const report = await rewrapFields(cipher, [{ context: context(tenant), ciphertext: sealed }], async () => false);
      assert.deepEqual([report.scanned, report.rewrapped, report.skipped], [1, 0, 1]);
    });

    it("crypto-shredding: destroying a tenant's keys makes its data unreadable (410), other tenants unaffected", async () => {
      const audit = createAuditLog({ database: opened.database, masterKey });
      cipher = createFieldCipher({ database: opened.database, masterKey, audit });
      const other = `ten_${randomBytes(6).toString("hex")}`;
      const doomed = await cipher.encryptField(context(tenant), prompt);
      await cipher.rotateTenantKey(tenant);
      const doomed2 = await cipher.encryptField(context(tenant, "req_2"), prompt);
      const kept = await cipher.encryptField(context(other), "still here");
      const wrapped = (
        await opened.database.db
          .selectFrom("tenant_data_keys")
          .select("wrapped_key")
          .where("tenant_id", "=", tenant)
          .execute()
      ).map((row) => row.wrapped_key ?? "");

      const result = await cipher.destroyTenantKeys(tenant, { actor: "admin" });
      assert.equal(result.destroyed, 2);
      for (const [place, value] of [
        [context(tenant), doomed],
        [context(tenant, "req_2"), doomed2],
      ] as const) {
        await assert.rejects(cipher.decryptField(place, value), rejectsWith("MP_KEY_DESTROYED", 410));
        await assert.rejects(
          createFieldCipher({ database: opened.database, masterKey }).decryptField(place, value),
          rejectsWith("MP_KEY_DESTROYED", 410),
        );
      }
      await assert.rejects(cipher.encryptField(context(tenant), "new"), rejectsWith("MP_KEY_DESTROYED"));
      assert.equal(await cipher.decryptField(context(other), kept), "still here");
      const rows = await opened.database.db
        .selectFrom("tenant_data_keys")
        .selectAll()
        .where("tenant_id", "=", tenant)
        .execute();
      assert.ok(rows.every((row) => row.wrapped_key === null && row.destroyed_at !== null));
      assert.equal((await cipher.destroyTenantKeys(tenant)).destroyed, 0, "destroying twice is a no-op");

      if (backend.name === "SQLite") {
        assert.equal(result.purged, true);
        const files = readdirSync(opened.dataDir).filter((name) => name.startsWith("modelport.db"));
        for (const file of files) {
          const bytes = readFileSync(join(opened.dataDir, file));
          for (const value of wrapped)
            assert.equal(bytes.indexOf(value), -1, `${file} still holds a destroyed wrapped key`);
        }
      }

      // An explicit rotation starts afresh; the shredded versions stay unreadable.
      assert.equal(await cipher.rotateTenantKey(tenant), 3);
      assert.equal(
        await cipher.decryptField(context(tenant, "req_3"), await cipher.encryptField(context(tenant, "req_3"), "new")),
        "new",
      );
      await assert.rejects(cipher.decryptField(context(tenant), doomed), rejectsWith("MP_KEY_DESTROYED"));

      const actions = (await audit.list({ tenantId: tenant, order: "asc" })).entries.map((entry) => [
        entry.action,
        entry.actor,
      ]);
      assert.deepEqual(actions, [
        ["data-key-created", "system"],
        ["data-key-rotated", "system"],
        ["data-keys-destroyed", "admin"],
        ["data-keys-destroyed", "system"],
        ["data-key-rotated", "system"],
      ]);
    });

    it("master-key rotation: keys wrapped under the previous master key are re-wrapped, data untouched", async () => {
      const sealed = await cipher.encryptField(context(tenant), prompt);
      const newMaster = randomBytes(32);
      await assert.rejects(
        createFieldCipher({ database: opened.database, masterKey: newMaster }).decryptField(context(tenant), sealed),
        (error: unknown) =>
          isModelportError(error) && error.code === "MP_DECRYPT_FAILED" && /another master key/.test(error.message),
      );
      const rotating = createFieldCipher({
        database: opened.database,
        masterKey: newMaster,
        previousMasterKeys: [masterKey],
      });
      assert.equal(await rotating.decryptField(context(tenant), sealed), prompt);
      const { rewrapped } = await rotating.keys.rewrapUnderCurrentMasterKey();
      assert.ok(rewrapped >= 1);
      const after = createFieldCipher({ database: opened.database, masterKey: newMaster });
      assert.equal(await after.decryptField(context(tenant), sealed), prompt);
      assert.equal((await after.keys.list(tenant))[0]?.kekId, after.keys.kekId);
      await assert.rejects(
        createFieldCipher({ database: opened.database, masterKey }).decryptField(context(tenant), sealed),
        rejectsWith("MP_DECRYPT_FAILED"),
      );
    });

    it("rejects an incomplete field context", async () => {
      await assert.rejects(cipher.encryptField({ ...context(tenant), rowId: "" }, "x"), rejectsWith("MP_INTERNAL"));
    });
  });
}
