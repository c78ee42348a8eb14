import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyPolicy, piiPolicySchema } from "./policy.js";
import { createPseudonymSession, reidentify } from "./pseudonymize.js";

describe("PII policy", () => {
  const text = "I am Sarah Johnson, card 4111 1111 1111 1111, mail bob@example.com, ip 10.0.0.1.";

  it("pseudonymizes, redacts, masks in logs only and allows, per type", () => {
    const policy = piiPolicySchema.parse({
      defaultAction: "allow",
      entities: { PERSON: "pseudonymize", CREDIT_CARD: "redact", EMAIL_ADDRESS: { action: "mask_logs" } },
    });
    const session = createPseudonymSession();
    const result = applyPolicy(text, policy, session);
    assert.equal(result.blocked, undefined);
    assert.equal(result.text, "I am <PERSON_1>, card <CREDIT_CARD>, mail bob@example.com, ip 10.0.0.1.");
    assert.equal(result.logText, "I am *************, card **** **** **** 1111, mail ***************, ip 10.0.0.1.");
    assert.equal(reidentify("Hello <PERSON_1>", session), "Hello Sarah Johnson");
    assert.deepEqual(
      result.findings.map((f) => [f.type, f.action]),
      [
        ["PERSON", "pseudonymize"],
        ["CREDIT_CARD", "redact"],
        ["EMAIL_ADDRESS", "mask_logs"],
        ["IP_ADDRESS", "allow"],
      ],
    );
  });

  it("returns a block verdict instead of throwing, with the types", () => {
    const result = applyPolicy(text, { entities: { CREDIT_CARD: "block", EMAIL_ADDRESS: "block" } });
    assert.deepEqual(result.blocked, { types: ["CREDIT_CARD", "EMAIL_ADDRESS"] });
    assert.equal(result.text, text, "the text is not rewritten for a blocked request");
    assert.ok(!result.logText.includes("4111 1111 1111 1111"), "logs never see the blocked value");
  });

  it("per-type thresholds: a low-score finding is ignored unless the rule asks for it", () => {
    const bare = "order 536904399 shipped to the warehouse yesterday; SSN";
    assert.equal(applyPolicy("order 536904399 shipped", { entities: { US_SSN: "block" } }).blocked, undefined);
    assert.deepEqual(applyPolicy(bare, { entities: { US_SSN: { action: "block", threshold: 0.2 } } }).blocked, {
      types: ["US_SSN"],
    });
  });

  it("validates policies and refuses to pseudonymize without a session", () => {
    assert.throws(() => piiPolicySchema.parse({ entities: { PERSON: "shred" } }));
    assert.throws(() => piiPolicySchema.parse({ entities: { NOT_A_TYPE: "block" } }));
    assert.throws(() => piiPolicySchema.parse({ threshold: 2 }));
    assert.throws(() => applyPolicy(text, { entities: { PERSON: "pseudonymize" } }), /needs a session/);
  });
});
