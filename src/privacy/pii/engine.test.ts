import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { createPiiEngine } from "./engine.js";
import { resolveOverlaps } from "./overlap.js";
import type { PiiCandidate } from "./types.js";

const engine = createPiiEngine();

/** 100 KB of one pattern repeated (the size the timing budget is stated for). */
const repeat = (unit: string) => unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);

/** Inputs built to trigger catastrophic backtracking in naive PII regexes. */
export const adversarialInputs: Record<string, string> = {
  digits: repeat("1"),
  "spaced digits": repeat("1 "),
  "dashed digits": repeat("12-"),
  dots: repeat("."),
  "digit dots": repeat("1."),
  at: repeat("@"),
  a: repeat("a"),
  "email-ish": repeat("a.a@a"),
  "almost email": repeat("aaaaaaaaaa@"),
  colons: repeat(":"),
  "hex colons": repeat("ab:"),
  "url-ish": repeat("http://a."),
  "url dots": `http://a.b/${repeat(".")}`,
  "url brackets": `https://a.b/${repeat(")")}`,
  "jwt-ish": repeat("eyJ"),
  "jwt dots": repeat("eyJhbGciOi."),
  "pem without end": repeat("-----BEGIN PRIVATE KEY-----\n"),
  "secret words": repeat("password token secret "),
  "sk prefix": repeat("sk-"),
  capitals: repeat("Aa "),
  "name-like": repeat("John Smith "),
  cjk: repeat("王先生张"),
  "cjk cues": repeat("我叫姓名："),
  mixed: repeat("1@a.:-_ Z王 "),
  "plus digits": repeat("+1 "),
  "iban-ish": repeat("DE89 "),
  "18-character codes": repeat("11010519491231002X "),
  "ipv6-ish": repeat("fe80::1:"),
  "inner capitals": repeat("McDonald-O'Brien "),
};

function cpuMillis(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

describe("PII engine", () => {
  it("returns sorted, non-overlapping findings whose text is the slice", () => {
    const text =
      "Mail bob@example.com from https://bob@example.com/x, card 4111 1111 1111 1111, 身份证11010519491231002X";
    const findings = engine.detect(text);
    assert.ok(findings.length >= 4);
    for (let index = 0; index < findings.length; index++) {
      const finding = findings[index];
      assert.ok(finding);
      assert.equal(text.slice(finding.start, finding.end), finding.text);
      const next = findings[index + 1];
      if (next) assert.ok(finding.end <= next.start, "sorted and non-overlapping");
    }
  });

  it("resolves overlaps deterministically: higher score, then longer, then earlier", () => {
    const candidates: PiiCandidate[] = [
      { type: "PHONE_NUMBER", start: 0, end: 10, score: 0.6 },
      { type: "CREDIT_CARD", start: 0, end: 16, score: 0.9 },
      { type: "US_SSN", start: 5, end: 20, score: 0.9 },
      { type: "URL", start: 30, end: 40, score: 0.5 },
      { type: "EMAIL_ADDRESS", start: 32, end: 38, score: 0.5 },
    ];
    const forward = resolveOverlaps(candidates);
    const backward = resolveOverlaps([...candidates].reverse());
    assert.deepEqual(forward, backward, "input order does not matter");
    assert.deepEqual(
      forward.map((c) => c.type),
      ["CREDIT_CARD", "URL"],
      "0.9 beats 0.6; equal scores: the longer card (16) beats the SSN (15); the longer URL beats the e-mail",
    );
  });

  it("applies the threshold and the type filter", () => {
    const text = "ref 536904399 was shipped to the warehouse on time; SSN 536-90-4399";
    assert.deepEqual(
      engine.detect(text).map((f) => f.text),
      ["536-90-4399"],
    );
    assert.deepEqual(
      engine.detect(text, { threshold: 0.2 }).map((f) => f.text),
      ["536904399", "536-90-4399"],
      "the bare number scores below 0.5",
    );
    assert.deepEqual(
      engine.detect("bob@example.com 536-90-4399", { types: ["US_SSN"] }).map((f) => f.type),
      ["US_SSN"],
    );
  });

  it("rejects input over the length cap with a clear error", () => {
    const small = createPiiEngine({ maxInputLength: 1000 });
    assert.throws(
      () => small.detect("a".repeat(1001)),
      (error: unknown) =>
        error instanceof ModelportError && error.code === "MP_BODY_TOO_LARGE" && /limit of 1000/.test(error.message),
    );
    assert.deepEqual(small.detect("a".repeat(1000)), []);
    assert.throws(() => engine.detect(undefined as unknown as string), ModelportError);
  });

  it("finishes every adversarial 100 KB input in under 50 ms of CPU (no catastrophic backtracking)", () => {
    engine.detect("warm up 4111 1111 1111 1111 bob@example.com John Smith 王先生 eyJ http://a.b"); // compile regexes
    const slow: string[] = [];
    for (const [name, input] of Object.entries(adversarialInputs)) {
      // Best of five: the budget is about the algorithm (quadratic inputs take seconds), not about
      // a busy CI neighbour or a garbage collection landing in one run.
      const millis = Math.min(...Array.from({ length: 5 }, () => cpuMillis(() => engine.detect(input))));
      if (millis >= 50) slow.push(`${name}: ${millis.toFixed(1)} ms`);
    }
    assert.deepEqual(slow, [], "inputs over budget");
  });
});
