import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { makeUsageRecord } from "./testing/records.js";
import { parseUsageExportFormat, usageCsvColumns, usageExportStream } from "./usage-export.js";
import type { ExportQuery, UsageQueries } from "./usage-query.js";
import type { UsageRecord } from "./usage-record.js";

/** exportRecords over an array, paged like the real query (cursor = index of the next record). */
function pagedQueries(records: UsageRecord[], seen: ExportQuery[] = []): Pick<UsageQueries, "exportRecords"> {
  return {
    async exportRecords(query) {
      seen.push(query);
      const start = query.cursor === undefined ? 0 : Number(query.cursor);
      const limit = query.limit ?? 1_000;
      const page = records.slice(start, start + limit);
      const next = start + limit < records.length ? String(start + limit) : null;
      return { records: page, nextCursor: next };
    },
  };
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

const records = Array.from({ length: 5 }, (_, index) => makeUsageRecord(index));

describe("usage export stream", () => {
  it("pulls one page at a time and writes every record once, in order (jsonl)", async () => {
    const seen: ExportQuery[] = [];
    const body = await text(
      usageExportStream(
        pagedQueries(records, seen),
        { tenantId: "ten_a", from: "2025-01-01T00:00:00.000Z" },
        "jsonl",
        2,
      ),
    );
    const lines = body.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as UsageRecord).requestId),
      records.map((record) => record.requestId),
    );
    assert.deepEqual(
      seen.map((query) => [query.tenantId, query.from, query.limit, query.cursor]),
      [
        ["ten_a", "2025-01-01T00:00:00.000Z", 2, undefined],
        ["ten_a", "2025-01-01T00:00:00.000Z", 2, "2"],
        ["ten_a", "2025-01-01T00:00:00.000Z", 2, "4"],
      ],
    );
  });

  it("writes a JSON array across pages, and [] when there is nothing", async () => {
    const parsed = JSON.parse(await text(usageExportStream(pagedQueries(records), { tenantId: "t" }, "json", 2)));
    assert.deepEqual(parsed, records);
    assert.deepEqual(JSON.parse(await text(usageExportStream(pagedQueries([]), { tenantId: "t" }, "json"))), []);
  });

  it("writes RFC 4180 CSV with a header, and defuses spreadsheet formulas in text", async () => {
    const tricky = [
      makeUsageRecord(0, { requestId: "=cmd|'/c calc'!A1", model: 'say "hi", then\nleave', target: null }),
      makeUsageRecord(1),
    ];
    const csv = await text(usageExportStream(pagedQueries(tricky), { tenantId: "t" }, "csv"));
    const rows = csv.split("\r\n");
    assert.equal(rows[0], usageCsvColumns.join(","));
    assert.ok(rows[1]?.startsWith("'=cmd|'/c calc'!A1,"), rows[1]);
    assert.match(csv, /,"say ""hi"", then\nleave",/);
    assert.match(csv, /,mock\/gpt-4o-mini,/, "a plain value is not quoted");
    assert.equal(csv.endsWith("\r\n"), true);
    const second = rows.find((row) => row.startsWith(tricky[1]?.requestId ?? "?"));
    assert.ok(second);
    const cells = second.split(",");
    assert.equal(cells[usageCsvColumns.indexOf("costMicros")], String(tricky[1]?.costMicros));
    assert.equal(cells[usageCsvColumns.indexOf("target")], "mock/gpt-4o-mini");
  });

  it("aborts the stream when a page fails (a truncated export never looks complete)", async () => {
    const failing: Pick<UsageQueries, "exportRecords"> = {
      async exportRecords(query) {
        if (query.cursor !== undefined) throw new Error("database went away");
        return { records: records.slice(0, 2), nextCursor: "2" };
      },
    };
    await assert.rejects(text(usageExportStream(failing, { tenantId: "t" }, "json", 2)), /database went away/);
  });

  it("accepts jsonl (default), csv and json", () => {
    assert.equal(parseUsageExportFormat(undefined), "jsonl");
    assert.equal(parseUsageExportFormat("csv"), "csv");
    assert.throws(
      () => parseUsageExportFormat("xml"),
      (error: unknown) => error instanceof ModelportError && error.param === "format",
    );
  });
});
