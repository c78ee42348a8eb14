import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDatasetCellPolicy, datasetPiiPresets, parseDatasetPiiPolicy } from "./dataset-policy.js";

const key = Buffer.alloc(32, 7);
const cell = "Sarah Johnson <sarah@example.com> paid with 4111 1111 1111 1111";

describe("dataset PII policies", () => {
  it("applies each action to a cell", () => {
    const apply = (policy: unknown) =>
      createDatasetCellPolicy(parseDatasetPiiPolicy(policy, "test"), { source: "test", hashKey: key })
        .start()
        .apply(cell).text;
    assert.equal(apply({ defaultAction: "allow" }), cell);
    assert.equal(apply(datasetPiiPresets.replace), "<PERSON> <<EMAIL_ADDRESS>> paid with <CREDIT_CARD>");
    assert.equal(apply(datasetPiiPresets.redact), "<PERSON> <<EMAIL_ADDRESS>> paid with <CREDIT_CARD>");
    assert.equal(apply(datasetPiiPresets.mask), "************* <*****************> paid with **** **** **** 1111");
    assert.match(
      apply(datasetPiiPresets.hash),
      /^<PERSON:[0-9a-f]{16}> <<EMAIL_ADDRESS:[0-9a-f]{16}>> paid with <CREDIT_CARD:[0-9a-f]{16}>$/,
    );
    assert.equal(
      apply({ defaultAction: "allow", entities: { EMAIL_ADDRESS: "mask_logs", CREDIT_CARD: "pseudonymize" } }),
      "Sarah Johnson <*****************> paid with <CREDIT_CARD_1>",
    );
  });

  it("numbers pseudonyms across one import and starts over for the next", () => {
    const policy = createDatasetCellPolicy({ defaultAction: "pseudonymize" }, { source: "test" });
    const run = policy.start();
    assert.equal(run.apply("Sarah Johnson").text, "<PERSON_1>");
    assert.equal(run.apply("Oliver Smith").text, "<PERSON_2>");
    assert.equal(run.apply("Ask Sarah Johnson").text, "Ask <PERSON_1>");
    assert.equal(policy.start().apply("Oliver Smith").text, "<PERSON_1>");
  });

  it("reports blocked types without rewriting, and the findings with their actions", () => {
    const verdict = createDatasetCellPolicy(
      { defaultAction: "mask", entities: { CREDIT_CARD: "block" } },
      { source: "test" },
    )
      .start()
      .apply(cell);
    assert.deepEqual(verdict.blockedTypes, ["CREDIT_CARD"]);
    assert.equal(verdict.text, cell);
    assert.deepEqual(
      verdict.findings.map((finding) => `${finding.type}:${finding.action}`),
      ["PERSON:mask", "EMAIL_ADDRESS:mask", "CREDIT_CARD:block"],
    );
  });

  it("needs a key to hash; the fingerprint changes with the policy and the key, and never holds the key", () => {
    assert.throws(
      () => createDatasetCellPolicy({ defaultAction: "hash" }, { source: "test" }),
      /needs the tenant's key/,
    );
    const a = createDatasetCellPolicy({ defaultAction: "hash" }, { source: "a", hashKey: key }).fingerprint;
    const b = createDatasetCellPolicy(
      { defaultAction: "hash" },
      { source: "b", hashKey: Buffer.alloc(32, 8) },
    ).fingerprint;
    const c = createDatasetCellPolicy({ defaultAction: "mask" }, { source: "c" }).fingerprint;
    assert.notEqual(a, b);
    assert.notEqual(a, c);
    assert.ok(!a.includes(key.toString("hex")));
    assert.equal(createDatasetCellPolicy({ defaultAction: "hash" }, { source: "z", hashKey: key }).fingerprint, a);
  });

  it("accepts the gateway's policy shape and rejects unknown actions", () => {
    assert.deepEqual(parseDatasetPiiPolicy({ defaultAction: "mask_logs", threshold: 0.6 }, "x"), {
      defaultAction: "mask_logs",
      threshold: 0.6,
    });
    assert.throws(
      () => parseDatasetPiiPolicy({ entities: { EMAIL_ADDRESS: "shred" } }, "p.yaml"),
      /invalid PII policy in p\.yaml/,
    );
    assert.throws(
      () => parseDatasetPiiPolicy({ entities: { NOT_A_TYPE: "mask" } }, "p.yaml"),
      /MP_CONFIG_INVALID|invalid PII policy/,
    );
  });

  it("handles a cell longer than the engine's cap", () => {
    const long = `${"word ".repeat(220_000)}mail sarah@example.com ${"more ".repeat(10_000)}`;
    const verdict = createDatasetCellPolicy({ defaultAction: "replace" }, { source: "test" }).start().apply(long);
    assert.ok(verdict.text.includes("mail <EMAIL_ADDRESS> more"));
    assert.ok(!verdict.text.includes("sarah@example.com"));
  });
});
