import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { canonicalJson } from "./canonical-json.js";

describe("canonicalJson (RFC 8785 style)", () => {
  it("reproduces RFC 8785 §3.2.2's example (numbers, string escapes, literals)", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    assert.equal(
      canonicalJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts keys by UTF-16 code units as RFC 8785 §3.2.3 does", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // (Object.keys cannot show the order: integer-like keys such as "1" always enumerate first.)
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("sorts nested objects, writes no whitespace, omits undefined properties, turns -0 into 0", () => {
    assert.equal(
      canonicalJson({ b: { d: 1, c: [2, { z: 0, y: -0 }] }, a: undefined, e: "x y" }),
      '{"b":{"c":[2,{"y":0,"z":0}],"d":1},"e":"x y"}',
    );
  });

  it("gives the same text for equal values built in different key orders", () => {
    assert.equal(canonicalJson({ x: 1, y: [true, null] }), canonicalJson({ y: [true, null], x: 1 }));
  });

  it("refuses what JSON cannot represent faithfully", () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      [undefined],
      10n,
      new Date(0),
      new Map(),
      () => 1,
      Symbol("s"),
    ])
      assert.throws(() => canonicalJson(bad), TypeError, String(bad as unknown));
  });
});
