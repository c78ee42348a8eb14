import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson, responseCacheKey } from "./cache-key.js";

const base = { tenantId: "ten_a", endpoint: "chat", kind: "chat" };
const request = { model: "chat", messages: [{ role: "user", content: "hi" }], temperature: 0 };

describe("response cache key", () => {
  it("serializes objects with sorted keys at every level and keeps array order", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, e: undefined }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it("is the same for the same request whatever the key order, user or stream flags", () => {
    const key = responseCacheKey({ ...base, request });
    assert.match(key, /^[0-9a-f]{64}$/);
    const reordered = { temperature: 0, messages: [{ content: "hi", role: "user" }], model: "chat" };
    assert.equal(responseCacheKey({ ...base, request: reordered }), key);
    assert.equal(
      responseCacheKey({ ...base, request: { ...request, user: "bob", stream: false, stream_options: {} } }),
      key,
    );
  });

  it("differs by tenant, endpoint, kind and anything the model receives", () => {
    const key = responseCacheKey({ ...base, request });
    const others = [
      responseCacheKey({ ...base, tenantId: "ten_b", request }),
      responseCacheKey({ ...base, tenantId: null, request }),
      responseCacheKey({ ...base, endpoint: "chat2", request }),
      responseCacheKey({ ...base, kind: "embeddings", request }),
      responseCacheKey({ ...base, request: { ...request, temperature: 1 } }),
      responseCacheKey({ ...base, request: { ...request, messages: [{ role: "user", content: "hi!" }] } }),
    ];
    assert.equal(new Set([key, ...others]).size, others.length + 1);
  });

  it("keyed with a secret, is an HMAC that depends on the secret", () => {
    const plain = responseCacheKey({ ...base, request });
    const keyed = responseCacheKey({ ...base, request }, Buffer.alloc(32, 1));
    assert.notEqual(keyed, plain);
    assert.notEqual(responseCacheKey({ ...base, request }, Buffer.alloc(32, 2)), keyed);
    assert.equal(responseCacheKey({ ...base, request }, Buffer.alloc(32, 1)), keyed);
  });
});
