import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Actor } from "../src/commerce/rbac.js";
import { operator } from "../src/commerce/rbac.js";
import { createTenantService } from "../src/commerce/tenant-service.js";
import { defaultConfig } from "../src/config/load.js";
import { systemClock } from "../src/core/clock.js";
import { isModelportError } from "../src/core/errors.js";
import { adminRoutes } from "../src/gateway/admin/routes.js";
import { createEndpointRegistry } from "../src/gateway/endpoint-registry.js";
import { createRouter } from "../src/gateway/resilience/router.js";
import { createAuditedRequestLog } from "../src/monitoring/request-log/audited-access.js";
import { endUserHash } from "../src/monitoring/request-log/end-user.js";
import { createRequestLogRepository } from "../src/monitoring/request-log/repository.js";
import type { RequestLogEntry } from "../src/monitoring/request-log/types.js";
import { type AuditLog, createAuditLog } from "../src/privacy/audit/audit-log.js";
import type { AuditEntry } from "../src/privacy/audit/audit-types.js";
import { createFieldCipher, type FieldCipher } from "../src/privacy/crypto/index.js";
import { deriveKey } from "../src/server/master-key.js";
import { createRequestLogAdmin } from "../src/server/request-log-wiring.js";
import { createStorage } from "../src/storage/create-storage.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { runCli } from "./helpers/cli.js";

/**
 * Data access on the audit trail: `pii decrypt` and plaintext reads of stored request-log payloads
 * are decryptions, admin request-log searches are exports, end-user erasures are deletions.
 * Sensitive values reach the trail only as HMACs, and the chain still verifies afterwards.
 */
const piiKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

describe("pii decrypt on the audit trail (real CLI)", () => {
  let dir: string;
  const env = { MODELPORT_ADMIN_TOKEN: "audit-data-access-token", MODELPORT_PII_KEY: piiKey };
  const cli = (args: string[], input?: string) => runCli([...args, "--data-dir", dir], env, input);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-audit-decrypt-"));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("records a data-decrypted entry with HMACs instead of the text, and the chain verifies", async () => {
    const text = "Refund card 4111 1111 1111 1111 for sarah.johnson@example.com.\n";
    const encrypted = await runCli(["pii", "redact", "--operator", "encrypt"], env, text);
    assert.equal(encrypted.code, 0, encrypted.stderr);
    assert.ok(!encrypted.stdout.includes("4111"));

    const decrypted = await cli(["pii", "decrypt"], encrypted.stdout);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.equal(decrypted.stdout, text);

    const listed = await cli(["audit", "list", "--action", "data-decrypted", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const entries = (JSON.parse(listed.stdout) as { entries: AuditEntry[] }).entries;
    assert.equal(entries.length, 1);
    const entry = entries[0] as AuditEntry;
    assert.equal(entry.actor, "cli");
    assert.equal(entry.target, "pii-tokens");
    assert.equal(entry.details.tokens, 2);
    assert.deepEqual(entry.details.types, { CREDIT_CARD: 1, EMAIL_ADDRESS: 1 });
    const hmacs = entry.details.hmac as Record<string, string>;
    assert.match(hmacs.input ?? "", /^[0-9a-f]{64}$/);
    assert.match(hmacs.output ?? "", /^[0-9a-f]{64}$/);
    const stored = JSON.stringify(entry);
    for (const value of ["4111", "sarah.johnson", piiKey]) assert.ok(!stored.includes(value), value);

    const database = await readFile(join(dir, "modelport.db"));
    assert.ok(!database.includes(Buffer.from("sarah.johnson@example.com")), "no plaintext in the database file");

    const verified = await cli(["audit", "verify", "--json"]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.equal((JSON.parse(verified.stdout) as { ok: boolean }).ok, true);
  });

  it("decrypts nothing and records nothing with a wrong key", async () => {
    const encrypted = await runCli(["pii", "redact", "--operator", "encrypt"], env, "card 4111 1111 1111 1111\n");
    const wrongKey = await runCli(
      ["pii", "decrypt", "--data-dir", dir],
      { ...env, MODELPORT_PII_KEY: "11".repeat(32) },
      encrypted.stdout,
    );
    assert.equal(wrongKey.code, 1);
    assert.equal(wrongKey.stdout, "");
    const listed = await cli(["audit", "list", "--action", "data-decrypted", "--json"]);
    assert.equal((JSON.parse(listed.stdout) as { entries: AuditEntry[] }).entries.length, 1, "still the one entry");
  });
});

describe("request-log reads on the audit trail (admin routes, real SQLite)", () => {
  let dataDir: string;
  let database: DatabaseHandle;
  let audit: AuditLog;
  let cipher: FieldCipher;
  let tenantId: string;
  let route: (path: string) => ReturnType<typeof adminRoutes>[number];
  const masterKey = randomBytes(32);
  const endUserKey = deriveKey(masterKey, "end-user-hashing");
  const prompt = JSON.stringify([["user", "My card is **** **** **** 1111, call me"]]);
  const answer = "I will call you back.";

  async function trail(action: string): Promise<AuditEntry[]> {
    return (await audit.list({ action, limit: 1000 })).entries;
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-audit-requests-"));
    database = await openDatabase({ dataDir });
    const storage = createStorage(database);
    audit = createAuditLog({ database, masterKey, dataDir });
    cipher = createFieldCipher({ database, masterKey, audit });
    const tenants = createTenantService({
      storage,
      hashingKey: deriveKey(masterKey, "api-key-hashing"),
      clock: systemClock,
      audit: { record: (event) => audit.record(event as Parameters<AuditLog["record"]>[0]) },
    });
    tenantId = (await tenants.createTenant(operator, "acme")).id;
    const repository = createRequestLogRepository(database.db);
    const entries: RequestLogEntry[] = [];
    for (const [index, user] of ["alice", "bob", "alice"].entries()) {
      const requestId = `req-${index}`;
      const seal = (column: string, text: string) =>
        cipher.encryptField({ tenantId, table: "request_log", rowId: requestId, column }, text);
      entries.push({
        requestId,
        time: new Date(Date.UTC(2026, 10, 22, 8, 0, index)).toISOString(),
        tenantId,
        keyId: null,
        endUserHash: endUserHash(endUserKey, tenantId, user),
        protocol: "openai",
        method: "POST",
        path: "/v1/chat/completions",
        endpoint: "chat",
        target: "up/m",
        modelVersion: null,
        status: 200,
        errorCode: null,
        latencyUs: 1000,
        overheadUs: 100,
        inputTokens: 5,
        outputTokens: 5,
        costMicros: 10,
        cacheHit: false,
        stream: false,
        guardVerdicts: null,
        requestPayload: await seal("request_payload", prompt),
        responsePayload: await seal("response_payload", answer),
      });
    }
    await repository.insertMany(entries);
    const routes = adminRoutes({
      tenants,
      endpoints: createEndpointRegistry(defaultConfig(), new Map()),
      router: createRouter(),
      version: "test",
      requestLog: createRequestLogAdmin({ repository, endUserKey, audit, cipher }),
    });
    route = (path) => routes.find((candidate) => candidate.path === path) as ReturnType<typeof adminRoutes>[number];
  });
  after(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const search = (actor: Actor, query: Record<string, string> = {}) =>
    route("/tenants/{tenant}/requests").handler({
      actor,
      params: { tenant: "acme" },
      body: undefined,
      query,
    }) as Promise<{
      data: Record<string, unknown>[];
    }>;

  it("a search is a data-exported entry naming who, which tenant and what left", async () => {
    const page = await search(operator, { endpoint: "chat", limit: "2" });
    assert.equal(page.data.length, 2);
    assert.ok(typeof page.data[0]?.requestPayload === "string", "ciphertext by default");
    assert.ok(!String(page.data[0]?.requestPayload).includes("call me"));
    const exported = await trail("data-exported");
    assert.equal(exported.length, 1);
    const entry = exported[0] as AuditEntry;
    assert.equal(entry.actor, "admin");
    assert.equal(entry.tenantId, tenantId);
    assert.equal(entry.target, "request_log");
    assert.deepEqual(entry.details, {
      rows: 2,
      payloads: "ciphertext",
      filters: { endpoint: "chat", limit: 2, page: "first" },
    });
    assert.equal((await trail("data-decrypted")).length, 0, "ciphertext is not a decryption");
  });

  it("payloads=plaintext decrypts, recording the decryption and the export, for owner/admin only", async () => {
    const page = await search(operator, { payloads: "plaintext" });
    assert.equal(page.data.length, 3);
    for (const entry of page.data) {
      assert.equal(entry.requestText, prompt);
      assert.equal(entry.responseText, answer);
      assert.ok(!("requestPayload" in entry), "the ciphertext is not sent alongside");
    }
    const decrypted = await trail("data-decrypted");
    assert.equal(decrypted.length, 1);
    assert.equal(decrypted[0]?.actor, "admin");
    assert.equal(decrypted[0]?.details.rows, 3);
    assert.equal(decrypted[0]?.details.fields, 6);
    assert.deepEqual(decrypted[0]?.details.requestIds, ["req-2", "req-1", "req-0"]);
    assert.ok(!JSON.stringify(decrypted[0]).includes("call me"), "no payload text on the trail");
    const exported = await trail("data-exported");
    assert.equal(exported[0]?.details.payloads, "plaintext", "the newest export says plaintext left");

    const owner: Actor = { kind: "tenant", tenantId, role: "owner", keyId: "key-owner" };
    await search(owner, { payloads: "plaintext", limit: "1" });
    assert.equal((await trail("data-decrypted"))[0]?.actor, "key:key-owner");

    const developer: Actor = { kind: "tenant", tenantId, role: "developer", keyId: "key-dev" };
    const exportsBefore = (await trail("data-exported")).length;
    await assert.rejects(
      search(developer, { payloads: "plaintext" }),
      (error: unknown) => isModelportError(error) && error.code === "MP_FORBIDDEN",
    );
    await search(developer);
    const exported2 = await trail("data-exported");
    assert.equal(
      exported2.length,
      exportsBefore + 1,
      "the developer's ciphertext search is recorded, the refused one is not",
    );
    assert.equal(exported2[0]?.actor, "key:key-dev");
    await assert.rejects(
      search(operator, { payloads: "yes" }),
      (error: unknown) => isModelportError(error) && error.code === "MP_INVALID_REQUEST",
    );
  });

  it("an erasure is a data-deleted entry holding only the end user's HMAC", async () => {
    const result = (await route("/tenants/{tenant}/end-users/erase").handler({
      actor: operator,
      params: { tenant: "acme" },
      body: { user: "alice" },
      query: {},
    })) as { erased: number };
    assert.equal(result.erased, 2);
    const deleted = await trail("data-deleted");
    assert.equal(deleted.length, 1);
    const entry = deleted[0] as AuditEntry;
    assert.equal(entry.details.rows, 2);
    assert.deepEqual(entry.details.hmac, { endUser: audit.hmacOf("alice") });
    assert.ok(!JSON.stringify(entry).includes("alice"));
  });

  it("fails closed: no trail, no data", async () => {
    const repository = createRequestLogRepository(database.db);
    const broken = createAuditedRequestLog({
      repository,
      decrypter: cipher,
      endUserHash: () => "x",
      audit: {
        record: async () => {
          throw new Error("audit trail unavailable");
        },
      },
    });
    await assert.rejects(broken.search({ tenantId, payloads: "plaintext" }, "admin"), /audit trail unavailable/);
    await assert.rejects(broken.search({ tenantId }, "admin"), /audit trail unavailable/);
  });

  it("a destroyed key leaves the payload unreadable, and only readable fields count as decrypted", async () => {
    await cipher.destroyTenantKeys(tenantId, { actor: "admin" });
    const decryptionsBefore = (await trail("data-decrypted")).length;
    const page = await search(operator, { payloads: "plaintext" });
    assert.equal(page.data.length, 1, "bob's record is left");
    assert.equal(page.data[0]?.requestText, null);
    assert.ok(typeof page.data[0]?.payloadError === "string");
    assert.equal(
      (await trail("data-decrypted")).length,
      decryptionsBefore,
      "nothing decrypted, nothing recorded as decrypted",
    );
  });

  it("leaves an intact chain behind", async () => {
    const verification = await audit.verify();
    assert.equal(verification.ok, true, JSON.stringify(verification));
  });
});
