import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admissionScopes, estimateTokens } from "./admission-scopes.js";

describe("admission scopes", () => {
  it("builds key then tenant scopes from stored limits, dropping nulls", () => {
    assert.deepEqual(
      admissionScopes({
        keyId: "k1",
        keyLimits: { requestsPerMinute: 60, tokensPerMinute: null, concurrency: 4 },
        tenantId: "t1",
        tenantLimits: { requestsPerMinute: null, tokensPerMinute: 100_000, concurrency: null },
      }),
      [
        { key: "key:k1", limits: { requestsPerMinute: 60, concurrency: 4 } },
        { key: "tenant:t1", limits: { tokensPerMinute: 100_000 } },
      ],
    );
  });

  it("leaves out a level with no limits at all", () => {
    const none = { requestsPerMinute: null, tokensPerMinute: null, concurrency: null };
    assert.deepEqual(admissionScopes({ keyId: "k", keyLimits: none, tenantId: "t", tenantLimits: none }), []);
    assert.deepEqual(admissionScopes({ keyId: "k", tenantId: "t", tenantLimits: { concurrency: 2 } }), [
      { key: "tenant:t", limits: { concurrency: 2 } },
    ]);
  });

  it("estimates tokens as prompt characters / 4 plus the completion allowance", () => {
    assert.equal(estimateTokens({ promptCharacters: 10, maxOutputTokens: 100 }), 103);
    assert.equal(estimateTokens({ promptCharacters: 0 }), 256);
    assert.equal(estimateTokens({ promptCharacters: 8, maxOutputTokens: null, defaultOutputTokens: 16 }), 18);
    assert.equal(estimateTokens({ promptCharacters: -4, maxOutputTokens: -1 }), 0);
  });
});
