import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../core/errors.js";
import { type Role, roles } from "../core/storage.js";
import { type Actor, authorize, authorizeGrant, can, operator } from "./rbac.js";

const actor = (role: Role, tenantId = "t1"): Actor => ({
  kind: "tenant",
  tenantId,
  role,
  keyId: "k",
});

describe("rbac", () => {
  it("lets the operator do everything", () => {
    assert.ok(can(operator, "tenants:create") && can(operator, "metrics:read") && can(operator, "keys:manage"));
  });
  it("keeps operator-only permissions from every tenant role", () => {
    for (const role of roles) {
      for (const permission of [
        "tenants:create",
        "tenants:list-all",
        "tenant:limits",
        "metrics:read",
        "audit:verify",
      ] as const)
        assert.equal(can(actor(role), permission), false, `${role} ${permission}`);
    }
  });
  it("grants by role", () => {
    assert.ok(can(actor("billing"), "invoices:read"));
    assert.ok(!can(actor("developer"), "invoices:read"));
    assert.ok(can(actor("developer"), "keys:create"));
    assert.ok(!can(actor("viewer"), "keys:create"));
    assert.ok(!can(actor("billing"), "keys:read"));
    assert.ok(can(actor("viewer"), "endpoints:read"));
  });
  it("answers 404 for another tenant before looking at the role", () => {
    assert.throws(
      () => authorize(actor("owner"), "keys:read", "t2"),
      (error: unknown) => error instanceof ModelportError && error.code === "MP_NOT_FOUND",
    );
    assert.throws(
      () => authorize(actor("viewer"), "keys:manage", "t1"),
      (error: unknown) => error instanceof ModelportError && error.code === "MP_FORBIDDEN",
    );
  });
  it("never lets a role grant above itself", () => {
    assert.throws(() => authorizeGrant(actor("admin"), "owner"), /may not grant/);
    authorizeGrant(actor("admin"), "admin");
    authorizeGrant(actor("developer"), "viewer");
    assert.throws(() => authorizeGrant(actor("developer"), "admin"), /may not grant/);
  });
});
