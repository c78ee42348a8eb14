import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createFieldCipher } from "../src/privacy/crypto/index.js";
import { loadMasterKey } from "../src/server/master-key.js";
import { openDatabase } from "../src/storage/database.js";
import { type MockOpenAIUpstream, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli } from "./helpers/cli.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";

/** Rotation, re-wrapping and crypto-shredding of stored payloads through `modelport data-keys`. */
describe("modelport data-keys", () => {
  let upstream: MockOpenAIUpstream;
  let gateway: TestGateway;
  let dataDir: string;
  const cli = (...args: string[]) =>
    runCli([...args, "--tenant", "acme", "--data-dir", dataDir], { MODELPORT_ADMIN_TOKEN: "x-admin-token" });

  before(async () => {
    upstream = await startMockOpenAIUpstream();
    gateway = await startTestGateway({
      requestLog: { payloads: true },
      providers: { up: { type: "openai", baseUrl: upstream.url } },
      endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
    });
    dataDir = gateway.dataDir;
    const response = await gateway.call("/v1/chat/completions", {
      model: "chat",
      messages: [{ role: "user", content: "secret plans" }],
    });
    await response.arrayBuffer();
    await gateway.server.shutdown("test"); // flushes the request log; the data dir stays
  });
  after(async () => {
    await gateway?.close(); // the server is already stopped; this removes its data dir
    await upstream?.close();
  });

  async function storedPayload(): Promise<{ requestId: string; tenantId: string; payload: string }> {
    const handle = await openDatabase({ dataDir });
    try {
      const row = await handle.db
        .selectFrom("request_log")
        .select(["request_id", "tenant_id", "request_payload"])
        .executeTakeFirstOrThrow();
      return { requestId: row.request_id, tenantId: row.tenant_id as string, payload: row.request_payload as string };
    } finally {
      await handle.close();
    }
  }

  async function decrypt(): Promise<string> {
    const { requestId, tenantId, payload } = await storedPayload();
    const handle = await openDatabase({ dataDir });
    try {
      const cipher = createFieldCipher({ database: handle, masterKey: loadMasterKey(undefined, dataDir) });
      return await cipher.decryptField(
        { tenantId, table: "request_log", rowId: requestId, column: "request_payload" },
        payload,
      );
    } finally {
      await handle.close();
    }
  }

  it("rotates, then re-wraps stored payloads under the new version", async () => {
    assert.match((await storedPayload()).payload, /^mpe1\.1\./);
    const rotated = await cli("data-keys", "rotate", "--json");
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.deepEqual(JSON.parse(rotated.stdout), { version: 2 });
    assert.match(await decrypt(), /secret plans/, "old data still decrypts after rotation");
    const rewrapped = await cli("data-keys", "rewrap", "--json");
    assert.equal(rewrapped.code, 0, rewrapped.stderr);
    assert.equal((JSON.parse(rewrapped.stdout) as { total: { rewrapped: number } }).total.rewrapped, 2);
    assert.match((await storedPayload()).payload, /^mpe1\.2\./);
    assert.match(await decrypt(), /secret plans/);
  });

  it("destroys the keys only when confirmed, and the data is unreadable after", async () => {
    assert.equal((await cli("data-keys", "destroy")).code, 2);
    const destroyed = await cli("data-keys", "destroy", "--yes", "--json");
    assert.equal(destroyed.code, 0, destroyed.stderr);
    await assert.rejects(decrypt(), (error: unknown) => (error as { code?: string }).code === "MP_KEY_DESTROYED");
  });
});
