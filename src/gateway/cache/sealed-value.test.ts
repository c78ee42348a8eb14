import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { openValue, sealValue } from "./sealed-value.js";

const key = randomBytes(32);
const answer = '{"target":"up/m","value":{"content":"Dear Margaret Thornton"}}';

describe("sealed cache values", () => {
  it("round-trips and holds no plaintext", () => {
    const sealed = sealValue(key, "modelport:cache:k1", answer);
    assert.ok(!sealed.toString("latin1").includes("Margaret"));
    assert.equal(openValue(key, "modelport:cache:k1", sealed), answer);
  });

  it("uses a fresh nonce each time", () => {
    assert.notDeepEqual(sealValue(key, "k", answer), sealValue(key, "k", answer));
  });

  it("refuses a value moved to another key, another master key, or altered bytes", () => {
    const sealed = sealValue(key, "modelport:cache:k1", answer);
    assert.throws(() => openValue(key, "modelport:cache:k2", sealed));
    assert.throws(() => openValue(randomBytes(32), "modelport:cache:k1", sealed));
    const altered = Buffer.from(sealed);
    altered[altered.length - 1] = (altered[altered.length - 1] as number) ^ 1;
    assert.throws(() => openValue(key, "modelport:cache:k1", altered));
    assert.throws(() => openValue(key, "modelport:cache:k1", Buffer.from("plain text")), /unknown format/);
  });
});
