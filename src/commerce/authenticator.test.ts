import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Clock } from "../core/clock.js";
import type { Storage } from "../core/storage.js";
import { openStorage } from "../storage/database.js";
import { looksLikeApiKey } from "./api-key-format.js";
import { createAuthenticator } from "./authenticator.js";
import { operator } from "./rbac.js";
import { createTenantService } from "./tenant-service.js";

describe("authenticator", () => {
  let dir: string;
  let storage: Storage;
  let now = Date.parse("2026-11-22T00:00:00Z");
  const clock: Clock = { now: () => now, monotonic: () => now };
  const hashingKey = Buffer.alloc(32, 7);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-auth-"));
    storage = await openStorage({ dataDir: dir });
  });
  after(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("generates well-formed, unique keys and stores only their hash", async () => {
    const tenants = createTenantService({ storage, hashingKey, clock });
    await tenants.createTenant(operator, "t1");
    const a = await tenants.createKey(operator, "t1");
    const b = await tenants.createKey(operator, "t1");
    assert.ok(looksLikeApiKey(a.key) && looksLikeApiKey(b.key));
    assert.notEqual(a.key, b.key);
    const stored = await storage.apiKeys.getById(a.record.id);
    assert.ok(stored && !JSON.stringify(stored).includes(a.key.slice(11)));
    assert.equal(stored?.hash.length, 64);
  });

  it("accepts a valid key, refuses unknown, malformed, revoked and expired ones", async () => {
    const authenticator = createAuthenticator({ storage, hashingKey, clock, cacheTtlMs: 1_000 });
    const tenants = createTenantService({
      storage,
      hashingKey,
      clock,
      onKeyChanged: (id: string) => authenticator.forget(id),
    });
    await tenants.createTenant(operator, "t2");
    const { key, record } = await tenants.createKey(operator, "t2");
    const ok = await authenticator.authenticate(key);
    assert.ok(ok.ok && ok.principal.tenantName === "t2" && ok.principal.keyId === record.id);
    assert.deepEqual(await authenticator.authenticate(undefined), { ok: false, reason: "missing" });
    assert.deepEqual(await authenticator.authenticate("sk-something"), { ok: false, reason: "malformed" });
    assert.deepEqual(await authenticator.authenticate(`mp_${"0".repeat(40)}`), { ok: false, reason: "unknown" });
    await tenants.revokeKey(operator, record.id);
    assert.deepEqual(
      await authenticator.authenticate(key),
      { ok: false, reason: "revoked" },
      "revoked at once in-process",
    );

    const expiring = await tenants.createKey(operator, "t2", { expiresAt: new Date(now + 60_000).toISOString() });
    assert.equal((await authenticator.authenticate(expiring.key)).ok, true);
    now += 61_000;
    assert.deepEqual(
      await authenticator.authenticate(expiring.key),
      { ok: false, reason: "expired" },
      "even when cached",
    );
  });

  it("sees a revocation made by another process once the cache entry expires", async () => {
    const authenticator = createAuthenticator({ storage, hashingKey, clock, cacheTtlMs: 1_000 });
    const elsewhere = createTenantService({ storage, hashingKey, clock }); // no eviction hook: another process
    await elsewhere.createTenant(operator, "t3");
    const { key, record } = await elsewhere.createKey(operator, "t3");
    assert.equal((await authenticator.authenticate(key)).ok, true);
    await elsewhere.revokeKey(operator, record.id);
    now += 1_001;
    assert.deepEqual(await authenticator.authenticate(key), { ok: false, reason: "revoked" });
  });

  it("records last use, at most once a minute", async () => {
    const authenticator = createAuthenticator({ storage, hashingKey, clock, cacheTtlMs: 0 });
    const tenants = createTenantService({ storage, hashingKey, clock });
    await tenants.createTenant(operator, "t4");
    const { key, record } = await tenants.createKey(operator, "t4");
    await authenticator.authenticate(key);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = (await storage.apiKeys.getById(record.id))?.lastUsedAt;
    assert.equal(first, new Date(now).toISOString());
    now += 10_000;
    await authenticator.authenticate(key);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await storage.apiKeys.getById(record.id))?.lastUsedAt, first);
  });
});
