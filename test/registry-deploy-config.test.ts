import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { ModelportError } from "../src/core/errors.js";
import { upsertRegistryEndpoint } from "../src/training/registry/deploy-config.js";

const edit = { endpoint: "digits", name: "digits", alias: "production" };

test("YAML: a new endpoint is appended; comments, order and other entries stay", () => {
  const before =
    "# top comment\nserver:\n  port: 8080 # keep me\nendpoints:\n  chat:\n    kind: chat\n    targets:\n      - provider: mock\n        model: m\n";
  const after = upsertRegistryEndpoint(before, edit, "yaml");
  assert.ok(after.startsWith(before), after);
  assert.deepEqual(parse(after).endpoints.digits, {
    kind: "predict",
    targets: [{ model: "registry:digits@production" }],
  });
});

test("YAML: an existing endpoint keeps its other keys; targets replaced, or re-weighted with --weight", () => {
  const before =
    "endpoints:\n  digits:\n    kind: chat # wrong kind\n    pricing: { perRequest: 0.001 }\n    targets:\n      - model: registry:digits@production\n        weight: 90\n";
  const canary = upsertRegistryEndpoint(before, { ...edit, alias: "canary", weight: 10 }, "yaml");
  const parsed = parse(canary).endpoints.digits;
  assert.equal(parsed.kind, "predict");
  assert.deepEqual(parsed.pricing, { perRequest: 0.001 });
  assert.deepEqual(parsed.targets, [
    { model: "registry:digits@production", weight: 90 },
    { model: "registry:digits@canary", weight: 10 },
  ]);
  const reweighted = parse(upsertRegistryEndpoint(canary, { ...edit, alias: "canary", weight: 50 }, "yaml"));
  assert.equal(reweighted.endpoints.digits.targets[1].weight, 50);
  assert.equal(reweighted.endpoints.digits.targets.length, 2);
  const replaced = parse(upsertRegistryEndpoint(canary, edit, "yaml"));
  assert.deepEqual(replaced.endpoints.digits.targets, [{ model: "registry:digits@production" }]);
});

test("empty file and JSON configs", () => {
  assert.deepEqual(parse(upsertRegistryEndpoint("", edit, "yaml")), {
    endpoints: { digits: { kind: "predict", targets: [{ model: "registry:digits@production" }] } },
  });
  const json = upsertRegistryEndpoint('{"server":{"port":1},"endpoints":{}}', edit, "json");
  assert.deepEqual(JSON.parse(json), {
    server: { port: 1 },
    endpoints: { digits: { kind: "predict", targets: [{ model: "registry:digits@production" }] } },
  });
});

test("bad input is refused", () => {
  const fails = (code: string) => (error: unknown) => error instanceof ModelportError && error.code === code;
  assert.throws(() => upsertRegistryEndpoint("endpoints: [1", edit, "yaml"), fails("MP_CONFIG_INVALID"));
  assert.throws(() => upsertRegistryEndpoint("- a\n- b\n", edit, "yaml"), fails("MP_CONFIG_INVALID"));
  assert.throws(() => upsertRegistryEndpoint("endpoints:\n  digits: 3\n", edit, "yaml"), fails("MP_CONFIG_INVALID"));
  assert.throws(
    () => upsertRegistryEndpoint("", { ...edit, endpoint: "bad name" }, "yaml"),
    fails("MP_INVALID_REQUEST"),
  );
  assert.throws(() => upsertRegistryEndpoint("", { ...edit, weight: -1 }, "yaml"), fails("MP_INVALID_REQUEST"));
  assert.throws(() => upsertRegistryEndpoint("{", edit, "json"), fails("MP_CONFIG_INVALID"));
});
