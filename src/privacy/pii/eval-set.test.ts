import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createPiiEngine } from "./engine.js";
import { type EvalRecord, evaluatePii } from "./evaluate.js";

/** Accuracy regressions fail CI: the goals of issue 4 checked on bench/pii/eval-set.jsonl. */
describe("PII evaluation set", () => {
  const records = readFileSync(new URL("../../../bench/pii/eval-set.jsonl", import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as EvalRecord);
  const report = evaluatePii(createPiiEngine(), records);
  const f2 = (type: string) => report.perType.find((row) => row.type === type)?.f2 ?? 0;

  it("is big enough to mean something", () => {
    assert.ok(records.length >= 500, `${records.length} records`);
    assert.ok(records.some((r) => r.lang === "zh") && records.some((r) => r.lang === "en"));
    for (const record of records) {
      for (const entity of record.entities) {
        assert.ok(entity.start >= 0 && entity.end <= record.text.length && entity.start < entity.end, record.id);
      }
    }
  });

  it("F2 ≥ 0.95 for every checksum-validated type", () => {
    for (const type of ["CREDIT_CARD", "IBAN_CODE", "US_SSN", "CN_RESIDENT_ID", "CN_USCC"]) {
      assert.ok(f2(type) >= 0.95, `${type} F2 ${f2(type).toFixed(3)}`);
    }
  });

  it("F2 ≥ 0.85 for PERSON and ≥ 0.9 for the other pattern types", () => {
    assert.ok(f2("PERSON") >= 0.85, `PERSON F2 ${f2("PERSON").toFixed(3)}`);
    for (const type of ["EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "URL", "SECRET"]) {
      assert.ok(f2(type) >= 0.9, `${type} F2 ${f2(type).toFixed(3)}`);
    }
  });

  it("reports none of the invalid-checksum decoys", () => {
    assert.ok(report.decoys >= 100);
    assert.equal(report.decoysReported, 0);
  });
});
