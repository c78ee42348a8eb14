import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

/**
 * Tenants, keys and the admin API through the real server, on SQLite and on PostgreSQL: keys are
 * shown once, stored only as keyed hashes, revoked keys fail at once, and the admin surface needs
 * the admin token.
 */
function authSuite(name: string, setup: () => Promise<{ databaseUrl?: string; cleanup?: () => Promise<void> }>) {
  describe(`tenants, keys and admin API on ${name}`, () => {
    let gateway: TestGateway;
    let cleanup: (() => Promise<void>) | undefined;

    before(async () => {
      const database = await setup();
      cleanup = database.cleanup;
      gateway = await startTestGateway({}, database.databaseUrl ? { databaseUrl: database.databaseUrl } : {});
    });
    after(async () => {
      await gateway?.close();
      await cleanup?.();
    });

    it("accepts the tenant's key and reports the model list", async () => {
      const response = await gateway.call("/v1/models");
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { object: "list", data: [] });
    });

    it("creates tenants with unique names and lists them", async () => {
      const created = await gateway.admin("/admin/v1/tenants", {
        method: "POST",
        body: JSON.stringify({ name: "globex" }),
      });
      assert.equal(created.status, 201);
      const duplicate = await gateway.admin("/admin/v1/tenants", {
        method: "POST",
        body: JSON.stringify({ name: "globex" }),
      });
      assert.equal(duplicate.status, 409);
      assert.equal(((await duplicate.json()) as { error: { code: string } }).error.code, "MP_CONFLICT");
      const invalid = await gateway.admin("/admin/v1/tenants", {
        method: "POST",
        body: JSON.stringify({ name: "bad name!" }),
      });
      assert.equal(invalid.status, 400);
      const unknownField = await gateway.admin("/admin/v1/tenants", {
        method: "POST",
        body: JSON.stringify({ name: "x", plan: "gold" }),
      });
      assert.equal(unknownField.status, 400);
      const list = (await (await gateway.admin("/admin/v1/tenants")).json()) as { data: { name: string }[] };
      assert.deepEqual(list.data.map((tenant) => tenant.name).sort(), ["acme", "globex"]);
    });

    it("shows a key once and lists only its prefix afterwards", async () => {
      const created = await gateway.admin("/admin/v1/tenants/acme/keys", {
        method: "POST",
        body: JSON.stringify({ name: "shown-once" }),
      });
      assert.equal(created.status, 201);
      const { key, id, prefix } = (await created.json()) as { key: string; id: string; prefix: string };
      assert.ok(key.startsWith(prefix));
      const listed = await (await gateway.admin("/admin/v1/tenants/acme/keys")).text();
      assert.ok(listed.includes(id));
      assert.ok(!listed.includes(key), "the key is never listed");
      assert.ok(!listed.includes('"hash"'), "nor its hash");
    });

    it("fails a revoked key at once", async () => {
      const created = (await (
        await gateway.admin("/admin/v1/tenants/acme/keys", { method: "POST", body: "{}" })
      ).json()) as { key: string; id: string };
      const use = () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
      assert.equal((await use()).status, 200);
      const revoked = await gateway.admin(`/admin/v1/keys/${created.id}/revoke`, { method: "POST" });
      assert.equal(revoked.status, 200);
      assert.ok(((await revoked.json()) as { revokedAt: string }).revokedAt);
      const after = await use();
      assert.equal(after.status, 401);
      assert.match(((await after.json()) as { error: { message: string } }).error.message, /revoked/);
      assert.equal((await gateway.admin("/admin/v1/keys/key_nope/revoke", { method: "POST" })).status, 404);
    });

    it("rotates a key with an overlap window", async () => {
      const original = (await (
        await gateway.admin("/admin/v1/tenants/acme/keys", {
          method: "POST",
          body: JSON.stringify({ name: "rotating", limits: { requestsPerMinute: 77 } }),
        })
      ).json()) as { key: string; id: string };
      const use = (key: string) => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      const rotated = await gateway.admin(`/admin/v1/keys/${original.id}/rotate`, {
        method: "POST",
        body: JSON.stringify({ overlapSeconds: 1 }),
      });
      assert.equal(rotated.status, 201);
      const fresh = (await rotated.json()) as {
        key: string;
        rotatedFromId: string;
        name: string;
        limits: { requestsPerMinute: number };
      };
      assert.equal(fresh.rotatedFromId, original.id);
      assert.equal(fresh.name, "rotating");
      assert.equal(fresh.limits.requestsPerMinute, 77, "limits carry over");
      assert.equal((await use(original.key)).status, 200, "the old key works during the overlap");
      assert.equal((await use(fresh.key)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      assert.equal((await use(original.key)).status, 401, "and stops after it");
      assert.equal((await use(fresh.key)).status, 200);
      const immediate = (await (
        await gateway.admin(`/admin/v1/keys/${(fresh as unknown as { id: string }).id}/rotate`, {
          method: "POST",
          body: JSON.stringify({ overlapSeconds: 0 }),
        })
      ).json()) as { key: string };
      assert.equal((await use(fresh.key)).status, 401, "overlap 0 revokes at once");
      assert.equal((await use(immediate.key)).status, 200);
    });

    it("keeps inference-only and admin-only keys to their scopes", async () => {
      const adminOnly = (await (
        await gateway.admin("/admin/v1/tenants/acme/keys", {
          method: "POST",
          body: JSON.stringify({ scopes: ["admin"], role: "viewer" }),
        })
      ).json()) as { key: string };
      const inference = await fetch(`${gateway.url}/v1/models`, {
        headers: { authorization: `Bearer ${adminOnly.key}` },
      });
      assert.equal(inference.status, 403);
      const own = await fetch(`${gateway.url}/admin/v1/tenants/acme`, {
        headers: { authorization: `Bearer ${adminOnly.key}` },
      });
      assert.equal(own.status, 200);
      const bad = await gateway.admin("/admin/v1/tenants/acme/keys", {
        method: "POST",
        body: JSON.stringify({ scopes: ["admin"] }),
      });
      assert.equal(bad.status, 400, "an admin key needs a role or a user");
    });

    it("rejects an expired key", async () => {
      const created = (await (
        await gateway.admin("/admin/v1/tenants/acme/keys", {
          method: "POST",
          body: JSON.stringify({ expiresAt: new Date(Date.now() + 300).toISOString() }),
        })
      ).json()) as { key: string };
      const use = () => fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
      assert.equal((await use()).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal((await use()).status, 401);
    });

    it("guards the admin API and metrics with the admin token, not tenant keys", async () => {
      for (const path of ["/admin/v1/tenants", "/metrics"]) {
        assert.equal((await fetch(`${gateway.url}${path}`)).status, 401);
        assert.equal((await gateway.admin(path)).status, 200);
      }
      assert.equal((await gateway.call("/admin/v1/tenants")).status, 403, "an inference key has no admin scope");
      assert.equal((await gateway.call("/metrics")).status, 401, "metrics need the admin token");
      const openapi = (await (await fetch(`${gateway.url}/admin/v1/openapi.json`)).json()) as {
        openapi: string;
        paths: object;
      };
      assert.equal(openapi.openapi, "3.1.0");
      assert.ok("/tenants/{tenant}/keys" in openapi.paths);
    });

    it("records admin actions on the audit trail, which verifies", async () => {
      const page = (await (await gateway.admin("/admin/v1/audit?limit=500")).json()) as {
        entries: { action: string; actor: string; target: string | null }[];
      };
      const actions = page.entries.map((entry) => entry.action);
      for (const action of [
        "config-changed",
        "tenant-created",
        "api-key-created",
        "api-key-revoked",
        "api-key-rotated",
      ])
        assert.ok(actions.includes(action), `${action} is on the trail`);
      assert.ok(page.entries.every((entry) => entry.actor === "admin" || entry.actor === "system"));
      const verification = (await (await gateway.admin("/admin/v1/audit/verify")).json()) as { ok: boolean };
      assert.equal(verification.ok, true);
    });

    it("exposes Prometheus metrics for requests and overhead", async () => {
      await gateway.call("/v1/models");
      const text = await (await gateway.admin("/metrics")).text();
      assert.match(text, /# TYPE modelport_requests_total counter/);
      assert.match(text, /modelport_requests_total\{protocol="openai",endpoint="",status="200"\} \d+/);
      assert.match(text, /# TYPE modelport_request_duration_seconds histogram/);
      assert.match(text, /modelport_gateway_overhead_seconds_bucket/);
    });
  });
}

authSuite("SQLite", async () => ({}));

const probe = await probePostgres();
if (probe.state === "ready") {
  let database: PostgresTestDatabase;
  authSuite("PostgreSQL", async () => {
    database = await createTestDatabase();
    return { databaseUrl: database.url, cleanup: () => database.drop() };
  });
} else {
  reportPostgresUnavailable("tenants, keys and admin API on PostgreSQL", probe);
}

describe("keys at rest", () => {
  it("stores no key in plaintext in the SQLite files", async () => {
    const gateway = await startTestGateway({});
    try {
      await gateway.call("/v1/models");
      const needle = Buffer.from(gateway.apiKey);
      const files = readdirSync(gateway.dataDir).filter((file) => file.startsWith("modelport.db"));
      assert.ok(files.length > 0);
      for (const file of files) {
        const bytes = readFileSync(join(gateway.dataDir, file));
        assert.equal(bytes.indexOf(needle), -1, `${file} holds no key`);
        assert.equal(bytes.indexOf(Buffer.from(gateway.adminToken)), -1, `${file} holds no admin token`);
      }
    } finally {
      await gateway.close();
    }
  });
});
