import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Permission } from "../src/commerce/rbac.js";
import { can } from "../src/commerce/rbac.js";
import { type Role, roles } from "../src/core/storage.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";

interface Operation {
  method: string;
  path: string;
  permission: Permission;
}

/** A valid body for every admin route that takes one; the walk fails if a new route has none. */
const sampleBodies: Record<string, unknown> = {
  "post /tenants": { name: "walk-created" },
  "put /tenants/{tenant}/limits": { requestsPerMinute: 100 },
  "post /tenants/{tenant}/keys": { name: "walk" },
  "post /keys/{id}/rotate": { overlapSeconds: 60 },
  "patch /keys/{id}": { name: "renamed" },
  "post /tenants/{tenant}/users": { email: "walk@example.com", role: "viewer" },
  "patch /tenants/{tenant}/users/{user}": { role: "viewer" },
  "post /tenants/{tenant}/end-users/erase": { user: "someone" },
  "post /tenants/{tenant}/webhooks": { url: "http://127.0.0.1:9/hook" },
  "post /endpoints/{endpoint}/drift/check": {},
  "post /training/jobs": { dataset: "walk", template: "mlp" },
  "post /tenants/{tenant}/plans": { name: "walk", includedUsd: "1", discountPercent: "10" },
};

/** Query strings for GET routes that need one to answer 200 (e.g. which endpoint). */
const sampleQueries: Record<string, string> = {
  "get /tenants/{tenant}/quality": "?endpoint=chat",
};

/**
 * Walks every admin route (from the OpenAPI document, so a new route cannot be missed) as another
 * tenant's owner and as each role of the tenant that lacks the route's permission: every call gets
 * 403 or 404 and never the tenant's data. Then the roles that hold the permission succeed.
 */
describe("admin API: tenant isolation and roles on every route", () => {
  let gateway: TestGateway;
  let operations: Operation[];
  const keyOf: Partial<Record<Role, string>> = {};
  let otherOwnerKey: string;
  let secrets: string[];
  const ids = { tenant: "", id: "", user: "" };

  async function adminKey(tenant: string, role: Role): Promise<string> {
    const response = await gateway.admin(`/admin/v1/tenants/${tenant}/keys`, {
      method: "POST",
      body: JSON.stringify({ scopes: ["admin"], role, name: `${role}-key` }),
    });
    assert.equal(response.status, 201);
    return ((await response.json()) as { key: string }).key;
  }

  before(async () => {
    gateway = await startTestGateway({});
    const create = async (name: string) =>
      (
        (await (
          await gateway.admin("/admin/v1/tenants", { method: "POST", body: JSON.stringify({ name }) })
        ).json()) as {
          id: string;
        }
      ).id;
    ids.tenant = await create("victim");
    const otherTenant = await create("intruder");
    for (const role of roles) keyOf[role] = await adminKey(ids.tenant, role);
    otherOwnerKey = await adminKey(otherTenant, "owner");
    const inference = (await (
      await gateway.admin(`/admin/v1/tenants/${ids.tenant}/keys`, {
        method: "POST",
        body: JSON.stringify({ name: "victim-inference" }),
      })
    ).json()) as { id: string; prefix: string };
    ids.id = inference.id;
    const user = (await (
      await gateway.admin(`/admin/v1/tenants/${ids.tenant}/users`, {
        method: "POST",
        body: JSON.stringify({ email: "victim.user@example.com", role: "developer" }),
      })
    ).json()) as { id: string };
    ids.user = user.id;
    secrets = ["victim.user@example.com", inference.prefix, "victim-inference"];

    const document = (await (await fetch(`${gateway.url}/admin/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { "x-modelport-permission": Permission }>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method,
        path,
        permission: operation["x-modelport-permission"],
      })),
    );
    // Destructive routes last, so earlier calls still find the key.
    operations.sort((a, b) => Number(a.path.endsWith("/revoke")) - Number(b.path.endsWith("/revoke")));
  });
  after(async () => {
    await gateway?.close();
  });

  function call(operation: Operation, key: string) {
    // Tenant-owned ids are the victim's; other parameters (operator-only routes) get a placeholder.
    const url = operation.path.replace(/\{([A-Za-z]+)\}/g, (_match, name: string) =>
      name in ids ? ids[name as keyof typeof ids] : `walk-${name}`,
    );
    const body = sampleBodies[`${operation.method} ${operation.path}`];
    const query = sampleQueries[`${operation.method} ${operation.path}`] ?? "";
    return fetch(`${gateway.url}/admin/v1${url}${query}`, {
      method: operation.method.toUpperCase(),
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  it("covers every route, each with a permission and a sample body where needed", () => {
    assert.ok(operations.length >= 12, `${operations.length} routes`);
    for (const operation of operations) {
      assert.ok(operation.permission, `${operation.method} ${operation.path} names a permission`);
      if (operation.method !== "get" && !operation.path.endsWith("/revoke"))
        assert.ok(
          `${operation.method} ${operation.path}` in sampleBodies,
          `sample body for ${operation.method} ${operation.path}`,
        );
    }
  });

  it("never gives another tenant's owner the victim's data", async () => {
    for (const operation of operations) {
      const response = await call(operation, otherOwnerKey);
      const text = await response.text();
      for (const secret of secrets)
        assert.ok(!text.includes(secret), `${operation.method} ${operation.path} leaked ${secret}`);
      if (operation.path.includes("{")) {
        assert.ok(
          [403, 404].includes(response.status),
          `${operation.method} ${operation.path} → ${response.status} ${text}`,
        );
      } else {
        // Routes without a tenant in the path answer for the caller's own tenant, or are operator-only.
        assert.ok([200, 403].includes(response.status), `${operation.method} ${operation.path} → ${response.status}`);
        if (response.status === 200) assert.ok(!text.includes(ids.tenant), "no trace of the victim tenant");
      }
    }
  });

  it("refuses every role that lacks a route's permission with 403", async () => {
    let refusals = 0;
    for (const operation of operations) {
      for (const role of roles) {
        if (can({ kind: "tenant", tenantId: ids.tenant, role, keyId: "k" }, operation.permission)) continue;
        const response = await call(operation, keyOf[role] as string);
        assert.equal(response.status, 403, `${role} on ${operation.method} ${operation.path}`);
        refusals++;
      }
    }
    assert.ok(refusals > 20, `${refusals} refusals checked`);
  });

  it("lets the roles that hold a permission through", async () => {
    for (const operation of operations) {
      const allowed = roles.filter((role) =>
        can({ kind: "tenant", tenantId: ids.tenant, role, keyId: "k" }, operation.permission),
      );
      for (const role of allowed) {
        if (operation.method !== "get" && role !== "owner") continue; // mutate once, as the owner
        const response = await call(operation, keyOf[role] as string);
        assert.ok(
          response.status === 200 || response.status === 201,
          `${role} on ${operation.method} ${operation.path} → ${response.status} ${await response.text()}`,
        );
      }
    }
  });

  it("lets only owners and admins read stored payloads in plaintext", async () => {
    for (const role of roles) {
      const response = await fetch(`${gateway.url}/admin/v1/tenants/${ids.tenant}/requests?payloads=plaintext`, {
        headers: { authorization: `Bearer ${keyOf[role]}` },
      });
      const allowed = role === "owner" || role === "admin";
      assert.equal(response.status, allowed ? 200 : 403, `${role} → ${response.status}`);
    }
    const bad = await fetch(`${gateway.url}/admin/v1/tenants/${ids.tenant}/requests?payloads=yes`, {
      headers: { authorization: `Bearer ${keyOf.owner}` },
    });
    assert.equal(bad.status, 400);
  });

  it("keeps a role from granting a higher one", async () => {
    const response = await fetch(`${gateway.url}/admin/v1/tenants/${ids.tenant}/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${keyOf.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ scopes: ["admin"], role: "owner" }),
    });
    assert.equal(response.status, 403);
  });
});
