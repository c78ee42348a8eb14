import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ReportingExporter } from "./reporting-exporter.js";

function exporterAnswering(results: ExportResult[]): SpanExporter {
  return {
    export: (_spans, done) => done(results.shift() ?? { code: ExportResultCode.SUCCESS }),
    shutdown: async () => {},
  };
}

const spans = (count: number) => Array.from({ length: count }, () => ({}) as ReadableSpan);
const failed = (message: string): ExportResult => ({ code: ExportResultCode.FAILED, error: new Error(message) });

describe("ReportingExporter", () => {
  it("reports the first failure at once, then at most once a minute with the spans lost meanwhile", () => {
    let now = 0;
    const reports: [string, number][] = [];
    const results = [failed("refused"), failed("refused again"), { code: ExportResultCode.SUCCESS }, failed("late")];
    const exporter = new ReportingExporter(
      exporterAnswering(results),
      (error, lost) => reports.push([error.message, lost]),
      () => now,
    );
    const seen: number[] = [];
    const record = (result: ExportResult) => seen.push(result.code);
    exporter.export(spans(3), record);
    now = 10_000;
    exporter.export(spans(4), record);
    exporter.export(spans(1), record);
    assert.deepEqual(reports, [["refused", 3]], "the second failure within a minute is only counted");
    now = 70_001;
    exporter.export(spans(2), record);
    assert.deepEqual(reports, [
      ["refused", 3],
      ["late", 6],
    ]);
    assert.deepEqual(seen, [
      ExportResultCode.FAILED,
      ExportResultCode.FAILED,
      ExportResultCode.SUCCESS,
      ExportResultCode.FAILED,
    ]);
  });

  it("keeps exporting when the reporter throws", () => {
    const exporter = new ReportingExporter(exporterAnswering([failed("x")]), () => {
      throw new Error("logger broke");
    });
    let result: ExportResult | undefined;
    exporter.export(spans(1), (done) => (result = done));
    assert.equal(result?.code, ExportResultCode.FAILED);
  });
});
