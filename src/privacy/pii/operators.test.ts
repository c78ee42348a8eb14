import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { createPiiEngine } from "./engine.js";
import { anonymize, maskValue } from "./operators.js";
import { decryptPiiText, encryptPiiValue, hmacSha256 } from "./pii-crypto.js";
import type { PiiCandidate } from "./types.js";

const engine = createPiiEngine();
const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
const text = "Card 4111 1111 1111 1111, mail bob@example.com, 我叫张伟。";
const findings = engine.detect(text);

describe("PII operators", () => {
  it("replace and redact rewrite only the spans", () => {
    assert.equal(anonymize(text, findings, "replace"), "Card <CREDIT_CARD>, mail <EMAIL_ADDRESS>, 我叫<PERSON>。");
    assert.equal(anonymize(text, findings, "redact"), "Card , mail , 我叫。");
  });

  it("mask counts code points (emoji and CJK once) and keeps a card's last 4 and separators", () => {
    assert.equal(anonymize(text, findings, "mask"), "Card **** **** **** 1111, mail ***************, 我叫**。");
    assert.equal(maskValue("😀张伟", "#", 0, false), "###", "one mask per code point, no broken surrogates");
    assert.equal(
      anonymize("x 4111111111111111", engine.detect("x 4111111111111111"), "mask", { maskChar: "•" }),
      "x ••••••••••••1111",
    );
    assert.throws(() => anonymize(text, findings, "mask", { maskChar: "ab" }), ModelportError);
  });

  it("HMAC-SHA256 matches RFC 4231 test cases 1 and 2", () => {
    assert.equal(
      hmacSha256(Buffer.alloc(20, 0x0b), "Hi There").toString("hex"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
    assert.equal(
      hmacSha256(Buffer.from("Jefe"), "what do ya want for nothing?").toString("hex"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("hash gives <TYPE:hmac-prefix>, stable per key and different across keys", () => {
    const hashed = anonymize(text, findings, "hash", { key });
    const expected = hmacSha256(key, "bob@example.com").toString("hex").slice(0, 16);
    assert.ok(hashed.includes(`<EMAIL_ADDRESS:${expected}>`), hashed);
    assert.equal(anonymize(text, findings, "hash", { key: key.toString("hex") }), hashed, "hex key = Buffer key");
    assert.notEqual(anonymize(text, findings, "hash", { key: Buffer.alloc(32, 7) }), hashed);
    assert.throws(() => anonymize(text, findings, "hash"), /needs a key/);
    assert.throws(() => anonymize(text, findings, "hash", { key: "abcd" }), /64 hexadecimal/);
  });

  it("encrypt is reversible, randomised and authenticated", () => {
    const encrypted = anonymize(text, findings, "encrypt", { key });
    assert.ok(!encrypted.includes("bob@example.com") && !encrypted.includes("张伟"));
    assert.match(encrypted, /<EMAIL_ADDRESS:enc:[A-Za-z0-9_-]+>/);
    assert.equal(decryptPiiText(encrypted, key), text);
    assert.notEqual(anonymize(text, findings, "encrypt", { key }), encrypted, "a fresh IV every time");

    const token = encryptPiiValue(key, "PERSON", "张伟");
    const body = token.slice("<PERSON:enc:".length, -1);
    const raw = Buffer.from(body, "base64url");
    for (const index of [0, 5, raw.length - 20, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] = (tampered[index] ?? 0) ^ 1;
      assert.throws(
        () => decryptPiiText(`<PERSON:enc:${tampered.toString("base64url")}>`, key),
        ModelportError,
        `byte ${index}`,
      );
    }
    assert.throws(() => decryptPiiText(token, Buffer.alloc(32, 9)), /failed authentication/, "another key");
    assert.throws(() => decryptPiiText(`<EMAIL_ADDRESS:enc:${body}>`, key), /failed authentication/, "type is bound");
  });

  it("never corrupts text: overlapping or out-of-range spans are resolved first", () => {
    const spans: PiiCandidate[] = [
      { type: "PERSON", start: 0, end: 4, score: 0.9 },
      { type: "URL", start: 2, end: 8, score: 0.5 },
      { type: "EMAIL_ADDRESS", start: 8, end: 100, score: 1 },
    ];
    assert.equal(anonymize("abcdefghij", spans, "replace"), "<PERSON>efghij");
  });

  // Removal ("redact") is left out on purpose: deleting a value can make its neighbours adjacent
  // ("password: x 536-90-4399" → "password:  536-90-4399"), which is new text, not a re-detection.
  it("is idempotent: anonymizing anonymized text changes nothing (property over generated text)", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pieces = [
      "bob@example.com",
      "4111 1111 1111 1111",
      "536-90-4399",
      "192.168.0.1",
      "https://example.com/x",
      "Sarah Johnson",
      "我叫张伟",
      "13812345678",
      "11010519491231002X",
      "AKIAIOSFODNN7EXAMPLE",
      "DE89370400440532013000",
      "hello",
      "and",
      "，",
      "。",
      "😀",
      "the",
      "42",
      "Mr. Okafor",
      "password: hunter22",
    ];
    for (let round = 0; round < 200; round++) {
      const sample = Array.from(
        { length: 3 + Math.floor(random() * 8) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join(" ");
      for (const operator of ["replace", "mask", "hash", "encrypt"] as const) {
        const once = anonymize(sample, engine.detect(sample), operator, { key });
        const twice = anonymize(once, engine.detect(once), operator, { key });
        assert.equal(twice, once, `${operator}: ${sample}`);
      }
    }
  });
});
