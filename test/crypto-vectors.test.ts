import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aesGcmDecrypt, aesGcmEncrypt } from "../src/privacy/crypto/aes-gcm.js";
import { hmacSha256Hex } from "../src/privacy/crypto/hmac.js";

const hex = (text: string) => Buffer.from(text, "hex");

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-17 (AES-256);
// the same vectors appear in NIST's gcmEncryptExtIV256.rsp family.
const K15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
const P15 =
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const P16 = P15.slice(0, 120);
const A16 = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const C15 =
  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
const gcmVectors = [
  {
    name: "test case 13",
    key: "00".repeat(32),
    iv: "00".repeat(12),
    pt: "",
    aad: "",
    ct: "",
    tag: "530f8afbc74536b9a963b4f1c4cb738b",
  },
  {
    name: "test case 14",
    key: "00".repeat(32),
    iv: "00".repeat(12),
    pt: "00".repeat(16),
    aad: "",
    ct: "cea7403d4d606b6e074ec5d3baf39d18",
    tag: "d0d1c8a799996bf0265b98b5d48ab919",
  },
  {
    name: "test case 15",
    key: K15,
    iv: "cafebabefacedbaddecaf888",
    pt: P15,
    aad: "",
    ct: C15,
    tag: "b094dac5d93471bdec1a502270e3cc6c",
  },
  {
    name: "test case 16 (with AAD)",
    key: K15,
    iv: "cafebabefacedbaddecaf888",
    pt: P16,
    aad: A16,
    ct: C15.slice(0, 120),
    tag: "76fc6ece0f4e1768cddf8853bb2d551b",
  },
  {
    name: "test case 17 (64-bit IV)",
    key: K15,
    iv: "cafebabefacedbad",
    pt: P16,
    aad: A16,
    ct: "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
    tag: "3a337dbf46a792c45e454913fe2ea8f2",
  },
];

describe("AES-256-GCM known-answer vectors (node:crypto)", () => {
  for (const vector of gcmVectors) {
    it(`${vector.name}: encrypts to the published ciphertext and tag`, () => {
      const sealed = aesGcmEncrypt(hex(vector.key), hex(vector.iv), hex(vector.pt), hex(vector.aad));
      assert.equal(sealed.ciphertext.toString("hex"), vector.ct);
      assert.equal(sealed.tag.toString("hex"), vector.tag);
    });
    it(`${vector.name}: decrypts back, and rejects a tag with one bit flipped`, () => {
      const plain = aesGcmDecrypt(hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag), hex(vector.aad));
      assert.equal(plain.toString("hex"), vector.pt);
      const badTag = hex(vector.tag);
      badTag[0] = (badTag[0] ?? 0) ^ 0x01;
      assert.throws(() => aesGcmDecrypt(hex(vector.key), hex(vector.iv), hex(vector.ct), badTag, hex(vector.aad)));
    });
  }

  it("rejects truncated tags (no short-tag forgeries)", () => {
    const vector = gcmVectors[2];
    assert.ok(vector);
    assert.throws(
      () => aesGcmDecrypt(hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag).subarray(0, 12), hex("")),
      /16 bytes/,
    );
  });

  it("test case 16 fails when the AAD changes by one bit", () => {
    const vector = gcmVectors[3];
    assert.ok(vector);
    const aad = hex(vector.aad);
    aad[aad.length - 1] = (aad[aad.length - 1] ?? 0) ^ 0x80;
    assert.throws(() => aesGcmDecrypt(hex(vector.key), hex(vector.iv), hex(vector.ct), hex(vector.tag), aad));
  });
});

// RFC 4231, HMAC-SHA-256 results of test cases 1-4.
describe("HMAC-SHA256 (RFC 4231 test cases 1-4)", () => {
  const cases = [
    {
      name: "test case 1",
      key: hex("0b".repeat(20)),
      data: Buffer.from("Hi There"),
      mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    },
    {
      name: "test case 2 (key shorter than the output)",
      key: Buffer.from("Jefe"),
      data: Buffer.from("what do ya want for nothing?"),
      mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
    {
      name: "test case 3 (50 bytes of 0xdd)",
      key: hex("aa".repeat(20)),
      data: hex("dd".repeat(50)),
      mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    },
    {
      name: "test case 4 (25-byte key)",
      key: hex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
      data: hex("cd".repeat(50)),
      mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    },
  ];
  for (const { name, key, data, mac } of cases)
    it(name, () => {
      assert.equal(hmacSha256Hex(key, data), mac);
    });

  it("a string value is hashed as UTF-8 (test case 2 given as text)", () => {
    assert.equal(
      hmacSha256Hex(Buffer.from("Jefe"), "what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});
