import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ModelportError } from "../errors.js";
import { randomId } from "../ids.js";
import { type ApiKeyRecord, noLimits, type Storage, type TenantRecord } from "../storage.js";

/**
 * The one contract every Storage implementation passes (SQLite and PostgreSQL run it unchanged).
 *
 * `open` must return a new Storage on the SAME database each time it is called (the suite opens
 * it more than once to check that migrations are idempotent and that data is shared); `cleanup`
 * runs after everything is closed (drop the test database, remove the temp dir).
 *
 * Pinned behaviour beyond the port's doc comments:
 * - `tenants.list()` and `apiKeys.listForTenant()` order by createdAt, then id, comparing bytes
 *   (so `ten_B` sorts before `ten_a` whatever the database's locale).
 * - `touchLastUsed` never moves lastUsedAt backwards; unknown ids are ignored.
 * - `ping()` never throws; after `close()` it returns false. `close()` may be called twice.
 * - Creating a key for a tenant that does not exist fails with MP_NOT_FOUND.
 */
export function storageContractSuite(name: string, open: () => Promise<Storage>, cleanup?: () => Promise<void>): void {
  describe(`Storage contract: ${name}`, () => {
    let storage: Storage;
    const opened: Storage[] = [];
    const openTracked = async (): Promise<Storage> => {
      const instance = await open();
      opened.push(instance);
      return instance;
    };

    before(async () => {
      storage = await openTracked();
    });
    after(async () => {
      for (const instance of opened) await instance.close();
      await cleanup?.();
    });

    // Every test makes its own tenants with unique names, so tests never depend on each other.
    let sequence = 0;
    const unique = (label: string): string => `${label}-${randomId("t", 8)}-${++sequence}`;
    const isoAt = (offsetSeconds: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, offsetSeconds)).toISOString();

    const tenant = (overrides: Partial<TenantRecord> = {}): TenantRecord => ({
      id: randomId("ten"),
      name: unique("tenant"),
      createdAt: isoAt(0),
      limits: { ...noLimits },
      ...overrides,
    });
    const apiKey = (tenantId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
      id: randomId("key"),
      tenantId,
      name: null,
      prefix: "mp_live_ab12cd34",
      hash: randomId("hash", 32),
      createdAt: isoAt(0),
      revokedAt: null,
      lastUsedAt: null,
      expiresAt: null,
      scopes: ["inference"],
      role: null,
      userId: null,
      limits: { ...noLimits },
      rotatedFromId: null,
      ...overrides,
    });
    const rejectsWith = async (promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> => {
      await assert.rejects(promise, (error: unknown) => {
        assert.ok(error instanceof ModelportError, `expected a ModelportError, got ${String(error)}`);
        assert.equal(error.code, code);
        if (pattern !== undefined) assert.match(error.message, pattern);
        return true;
      });
    };

    describe("tenants", () => {
      it("creates a tenant and reads it back by id and by name", async () => {
        const record = tenant({ name: unique("Acme Ünïcode ✓") });
        assert.deepEqual(await storage.tenants.create(record), record);
        assert.deepEqual(await storage.tenants.getById(record.id), record);
        assert.deepEqual(await storage.tenants.getByName(record.name), record);
      });

      it("returns undefined for unknown ids and names", async () => {
        assert.equal(await storage.tenants.getById(randomId("ten")), undefined);
        assert.equal(await storage.tenants.getByName(unique("nobody")), undefined);
      });

      it("rejects a taken name with MP_CONFLICT naming it", async () => {
        const first = await storage.tenants.create(tenant({ name: unique("acme") }));
        await rejectsWith(
          storage.tenants.create(tenant({ name: first.name })),
          "MP_CONFLICT",
          new RegExp(`tenant name '${first.name}' is taken`),
        );
      });

      it("rejects a duplicate id with MP_CONFLICT", async () => {
        const first = await storage.tenants.create(tenant());
        await rejectsWith(storage.tenants.create(tenant({ id: first.id })), "MP_CONFLICT", new RegExp(first.id));
        assert.deepEqual(await storage.tenants.getById(first.id), first, "the original is untouched");
      });

      it("lists tenants by createdAt, then id in byte order", async () => {
        const suffix = randomId("", 6);
        // Inserted out of order; `B` < `a` in bytes, the reverse in linguistic collations.
        const late = tenant({ id: `ten_${suffix}_a`, createdAt: isoAt(30) });
        const tieLower = tenant({ id: `ten_${suffix}_b`, createdAt: isoAt(20) });
        const tieUpper = tenant({ id: `ten_${suffix}_B`, createdAt: isoAt(20) });
        const early = tenant({ id: `ten_${suffix}_c`, createdAt: isoAt(10) });
        for (const record of [late, tieLower, tieUpper, early]) await storage.tenants.create(record);

        const ids = new Set([late.id, tieLower.id, tieUpper.id, early.id]);
        const listed = (await storage.tenants.list()).filter((record) => ids.has(record.id));
        assert.deepEqual(listed, [early, tieUpper, tieLower, late]);
      });
    });

    describe("access: limits, key updates and users", () => {
      it("stores tenant limits, including budgets beyond 2^31 micro-units", async () => {
        const created = await storage.tenants.create(tenant());
        const limits = {
          requestsPerMinute: 100,
          tokensPerMinute: null,
          concurrency: 8,
          monthlyBudgetMicros: 5_000_000_000_000,
        };
        assert.deepEqual((await storage.tenants.updateLimits(created.id, limits))?.limits, limits);
        assert.deepEqual((await storage.tenants.getById(created.id))?.limits, limits);
        assert.equal(await storage.tenants.updateLimits("ten_missing", limits), undefined);
      });

      it("updates a key's limits, name and expiry only within its tenant", async () => {
        const owner = await storage.tenants.create(tenant());
        const other = await storage.tenants.create(tenant());
        const key = await storage.apiKeys.create(apiKey(owner.id));
        const limits = { requestsPerMinute: 5, tokensPerMinute: 500, concurrency: 1, monthlyBudgetMicros: 1_000_000 };
        assert.equal(await storage.apiKeys.update(other.id, key.id, { limits }), undefined, "another tenant cannot");
        assert.deepEqual((await storage.apiKeys.getById(key.id))?.limits, noLimits);
        const updated = await storage.apiKeys.update(owner.id, key.id, {
          limits,
          name: "renamed",
          expiresAt: isoAt(9),
        });
        assert.deepEqual(updated, { ...key, limits, name: "renamed", expiresAt: isoAt(9) });
      });

      it("creates, lists and updates users per tenant, with unique emails per tenant", async () => {
        const a = await storage.tenants.create(tenant());
        const b = await storage.tenants.create(tenant());
        const user = {
          id: randomId("usr"),
          tenantId: a.id,
          email: "ana@example.com",
          role: "admin" as const,
          createdAt: isoAt(1),
          disabledAt: null,
        };
        assert.deepEqual(await storage.users.create(user), user);
        await rejectsWith(storage.users.create({ ...user, id: randomId("usr") }), "MP_CONFLICT", /ana@example\.com/);
        const sameEmailElsewhere = { ...user, id: randomId("usr"), tenantId: b.id };
        assert.deepEqual(await storage.users.create(sameEmailElsewhere), sameEmailElsewhere);
        assert.deepEqual(await storage.users.listForTenant(a.id), [user]);
        assert.equal(await storage.users.getForTenant(b.id, user.id), undefined);
        assert.equal(await storage.users.update(b.id, user.id, { role: "viewer" }), undefined);
        assert.deepEqual(await storage.users.update(a.id, user.id, { role: "viewer", disabledAt: isoAt(2) }), {
          ...user,
          role: "viewer",
          disabledAt: isoAt(2),
        });
        await rejectsWith(
          storage.users.create({ ...user, id: randomId("usr"), tenantId: "ten_missing" }),
          "MP_NOT_FOUND",
        );
      });
    });

    describe("api keys", () => {
      it("creates a key and reads every field back (nulls and values)", async () => {
        const owner = await storage.tenants.create(tenant());
        const bare = apiKey(owner.id);
        const full = apiKey(owner.id, {
          name: "ci runner",
          createdAt: isoAt(1),
          revokedAt: isoAt(2),
          lastUsedAt: isoAt(3),
          expiresAt: isoAt(4),
          scopes: ["inference", "admin"],
          role: "developer",
          userId: "usr_1",
          limits: {
            requestsPerMinute: 60,
            tokensPerMinute: 90_000,
            concurrency: 4,
            monthlyBudgetMicros: 9_007_199_254,
          },
          rotatedFromId: "key_old",
        });
        assert.deepEqual(await storage.apiKeys.create(bare), bare);
        assert.deepEqual(await storage.apiKeys.create(full), full);
        assert.deepEqual(await storage.apiKeys.getById(bare.id), bare);
        assert.deepEqual(await storage.apiKeys.getById(full.id), full);
      });

      it("finds a key by hash across tenants, and nothing for an unknown hash", async () => {
        const owner = await storage.tenants.create(tenant());
        const key = await storage.apiKeys.create(apiKey(owner.id));
        assert.deepEqual(await storage.apiKeys.findByHash(key.hash), key);
        assert.equal(await storage.apiKeys.findByHash(randomId("hash", 32)), undefined);
      });

      it("scopes getForTenant and listForTenant to the owning tenant", async () => {
        const tenantA = await storage.tenants.create(tenant());
        const tenantB = await storage.tenants.create(tenant());
        const keyA = await storage.apiKeys.create(apiKey(tenantA.id));
        const keyB = await storage.apiKeys.create(apiKey(tenantB.id));

        assert.deepEqual(await storage.apiKeys.getForTenant(tenantA.id, keyA.id), keyA);
        assert.equal(await storage.apiKeys.getForTenant(tenantB.id, keyA.id), undefined, "A's key is hidden from B");
        assert.equal(await storage.apiKeys.getForTenant(tenantA.id, keyB.id), undefined, "B's key is hidden from A");
        assert.equal(await storage.apiKeys.getForTenant(tenantA.id, randomId("key")), undefined);
        assert.deepEqual(await storage.apiKeys.listForTenant(tenantA.id), [keyA]);
        assert.deepEqual(await storage.apiKeys.listForTenant(tenantB.id), [keyB]);
        assert.deepEqual(await storage.apiKeys.listForTenant(randomId("ten")), []);
      });

      it("getById is not tenant-scoped and returns undefined for unknown ids", async () => {
        const owner = await storage.tenants.create(tenant());
        const key = await storage.apiKeys.create(apiKey(owner.id));
        assert.deepEqual(await storage.apiKeys.getById(key.id), key);
        assert.equal(await storage.apiKeys.getById(randomId("key")), undefined);
      });

      it("lists a tenant's keys by createdAt, then id in byte order", async () => {
        const owner = await storage.tenants.create(tenant());
        const suffix = randomId("", 6);
        const late = apiKey(owner.id, { id: `key_${suffix}_a`, createdAt: isoAt(30) });
        const tieLower = apiKey(owner.id, { id: `key_${suffix}_b`, createdAt: isoAt(20) });
        const tieUpper = apiKey(owner.id, { id: `key_${suffix}_B`, createdAt: isoAt(20) });
        const early = apiKey(owner.id, { id: `key_${suffix}_c`, createdAt: isoAt(10) });
        for (const record of [late, tieLower, tieUpper, early]) await storage.apiKeys.create(record);
        assert.deepEqual(await storage.apiKeys.listForTenant(owner.id), [early, tieUpper, tieLower, late]);
      });

      it("rejects a duplicate hash with MP_CONFLICT that does not print the hash", async () => {
        const owner = await storage.tenants.create(tenant());
        const first = await storage.apiKeys.create(apiKey(owner.id));
        await assert.rejects(storage.apiKeys.create(apiKey(owner.id, { hash: first.hash })), (error: unknown) => {
          assert.ok(error instanceof ModelportError);
          assert.equal(error.code, "MP_CONFLICT");
          assert.match(error.message, /hash/);
          assert.ok(!error.message.includes(first.hash), "the hash stays out of the message");
          return true;
        });
      });

      it("rejects a duplicate id with MP_CONFLICT", async () => {
        const owner = await storage.tenants.create(tenant());
        const first = await storage.apiKeys.create(apiKey(owner.id));
        await rejectsWith(
          storage.apiKeys.create(apiKey(owner.id, { id: first.id })),
          "MP_CONFLICT",
          new RegExp(first.id),
        );
      });

      it("rejects a key for a tenant that does not exist with MP_NOT_FOUND", async () => {
        const missing = randomId("ten");
        const key = apiKey(missing);
        await rejectsWith(storage.apiKeys.create(key), "MP_NOT_FOUND", new RegExp(missing));
        assert.equal(await storage.apiKeys.getById(key.id), undefined, "nothing was written");
      });

      it("revokes once: a second revoke keeps the first revokedAt", async () => {
        const owner = await storage.tenants.create(tenant());
        const key = await storage.apiKeys.create(apiKey(owner.id));
        const other = await storage.apiKeys.create(apiKey(owner.id));

        const revoked = await storage.apiKeys.revoke(key.id, isoAt(100));
        assert.deepEqual(revoked, { ...key, revokedAt: isoAt(100) });
        const again = await storage.apiKeys.revoke(key.id, isoAt(200));
        assert.equal(again?.revokedAt, isoAt(100));
        assert.deepEqual(await storage.apiKeys.findByHash(key.hash), revoked, "revocation is persisted");
        assert.deepEqual(await storage.apiKeys.getById(other.id), other, "other keys are untouched");
      });

      it("revoke returns undefined for an unknown key", async () => {
        assert.equal(await storage.apiKeys.revoke(randomId("key"), isoAt(1)), undefined);
      });

      it("touchLastUsed records use and never moves it backwards", async () => {
        const owner = await storage.tenants.create(tenant());
        const key = await storage.apiKeys.create(apiKey(owner.id));
        const other = await storage.apiKeys.create(apiKey(owner.id));

        await storage.apiKeys.touchLastUsed(key.id, isoAt(50));
        assert.equal((await storage.apiKeys.getById(key.id))?.lastUsedAt, isoAt(50));
        await storage.apiKeys.touchLastUsed(key.id, isoAt(40));
        assert.equal((await storage.apiKeys.getById(key.id))?.lastUsedAt, isoAt(50), "an older write is ignored");
        await storage.apiKeys.touchLastUsed(key.id, isoAt(60));
        assert.equal((await storage.apiKeys.getById(key.id))?.lastUsedAt, isoAt(60));
        assert.equal((await storage.apiKeys.getById(other.id))?.lastUsedAt, null, "other keys are untouched");
        await storage.apiKeys.touchLastUsed(randomId("key"), isoAt(70)); // unknown id: no error
      });
    });

    describe("settings", () => {
      it("returns undefined for a missing key", async () => {
        assert.equal(await storage.settings.get(unique("missing")), undefined);
      });

      it("sets, reads and overwrites values (empty and long values round-trip)", async () => {
        const key = unique("setting");
        await storage.settings.set(key, "one");
        assert.equal(await storage.settings.get(key), "one");
        await storage.settings.set(key, "");
        assert.equal(await storage.settings.get(key), "", "an empty value is not a missing one");
        const long = "x✓".repeat(50_000);
        await storage.settings.set(key, long);
        assert.equal(await storage.settings.get(key), long);
      });

      it("setIfAbsent inserts once and never overwrites", async () => {
        const key = unique("bootstrap");
        assert.equal(await storage.settings.setIfAbsent(key, "first"), true);
        assert.equal(await storage.settings.setIfAbsent(key, "second"), false);
        assert.equal(await storage.settings.get(key), "first");
        await storage.settings.set(key, "changed");
        assert.equal(await storage.settings.setIfAbsent(key, "third"), false);
        assert.equal(await storage.settings.get(key), "changed");
      });

      it("setIfAbsent is race-safe: of 10 concurrent calls exactly one wins", async () => {
        const key = unique("race");
        const values = Array.from({ length: 10 }, (_, index) => `value-${index}`);
        // Two handles on the same database, so the race crosses connections where the dialect has several.
        const second = await openTracked();
        const results = await Promise.all(
          values.map((value, index) => (index % 2 === 0 ? storage : second).settings.setIfAbsent(key, value)),
        );
        assert.equal(results.filter((won) => won).length, 1);
        const winner = values[results.indexOf(true)];
        assert.equal(await storage.settings.get(key), winner, "the stored value is the winner's");
      });
    });

    describe("lifecycle", () => {
      it("opening again on the same database re-runs migrations harmlessly and shares the data", async () => {
        const record = await storage.tenants.create(tenant());
        const [again, andAgain] = await Promise.all([openTracked(), openTracked()]);
        assert.equal(again.dialect, storage.dialect);
        assert.deepEqual(await again.tenants.getById(record.id), record);
        assert.deepEqual(await andAgain.tenants.getByName(record.name), record);
        const written = await again.tenants.create(tenant());
        assert.deepEqual(await storage.tenants.getById(written.id), written);
      });

      it("pings while open; after close ping is false, close is repeatable, and calls fail with MP_STORAGE_ERROR", async () => {
        const instance = await openTracked();
        assert.ok(instance.dialect === "sqlite" || instance.dialect === "postgres");
        assert.equal(await instance.ping(), true);
        await instance.close();
        await instance.close();
        assert.equal(await instance.ping(), false);
        await rejectsWith(instance.tenants.list(), "MP_STORAGE_ERROR");
        assert.equal(await storage.ping(), true, "closing one handle leaves the others working");
      });
    });
  });
}
