import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeEmbeddings } from "./embedding-encoding.js";

const response = {
  object: "list" as const,
  model: "m",
  usage: { prompt_tokens: 1, total_tokens: 1 },
  data: [{ object: "embedding" as const, index: 0, embedding: [0.5, -1, 2] }],
};

describe("embedding encoding", () => {
  it("encodes float arrays as base64 float32 when base64 was asked for", () => {
    const encoded = encodeEmbeddings(response, "base64");
    const bytes = Buffer.from(encoded.data[0]?.embedding as string, "base64");
    assert.deepEqual([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)], [0.5, -1, 2]);
  });
  it("leaves floats alone otherwise, and base64 strings alone always", () => {
    assert.equal(encodeEmbeddings(response, "float"), response);
    assert.equal(encodeEmbeddings(response, undefined), response);
    const already = { ...response, data: [{ object: "embedding" as const, index: 0, embedding: "AAAAPw==" }] };
    assert.equal(encodeEmbeddings(already, "base64"), already);
  });
});
