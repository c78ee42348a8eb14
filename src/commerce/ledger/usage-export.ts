import { ModelportError } from "../../core/errors.js";
import type { ExportQuery, UsageQueries } from "./usage-query.js";
import type { UsageRecord } from "./usage-record.js";

export const usageExportFormats = ["jsonl", "csv", "json"] as const;
export type UsageExportFormat = (typeof usageExportFormats)[number];

export const usageExportMediaTypes: Record<UsageExportFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
};

export function parseUsageExportFormat(value: string | undefined): UsageExportFormat {
  if (value === undefined || value === "") return "jsonl";
  if ((usageExportFormats as readonly string[]).includes(value)) return value as UsageExportFormat;
  throw new ModelportError("MP_INVALID_REQUEST", `format must be one of ${usageExportFormats.join(", ")}`, {
    param: "format",
  });
}

/** CSV columns, in this order: the record's fields (UsageRecord), amounts in integer micros. */
export const usageCsvColumns = [
  "requestId",
  "time",
  "tenantId",
  "keyId",
  "endpoint",
  "target",
  "model",
  "kind",
  "status",
  "inputTokens",
  "outputTokens",
  "items",
  "priceVersionId",
  "currency",
  "costMicros",
  "inputCostMicros",
  "outputCostMicros",
] as const satisfies readonly (keyof UsageRecord)[];

/**
 * RFC 4180 quoting, and a leading ' on text that a spreadsheet would run as a formula (= + - @,
 * tab, CR): request ids are chosen by callers, so an export must not carry formulas.
 */
function csvField(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function usageCsvRow(record: UsageRecord): string {
  return `${usageCsvColumns.map((column) => csvField(record[column])).join(",")}\r\n`;
}

function pageText(format: UsageExportFormat, records: readonly UsageRecord[], first: boolean): string {
  switch (format) {
    case "jsonl":
      return records.map((record) => `${JSON.stringify(record)}\n`).join("");
    case "csv":
      return records.map(usageCsvRow).join("");
    case "json":
      return records.map((record, index) => `${first && index === 0 ? "" : ",\n"}${JSON.stringify(record)}`).join("");
  }
}

/**
 * Every record of a tenant matching `query`, oldest first, as a byte stream in `format`: pulled
 * one page (`pageSize` records, one indexed range query) at a time as the client reads, so an
 * export of millions of records holds one page in memory. A database failure mid-stream aborts
 * the stream (the client sees a truncated body, never a complete-looking one: JSON lacks its `]`).
 */
export function usageExportStream(
  queries: Pick<UsageQueries, "exportRecords">,
  query: Omit<ExportQuery, "cursor" | "limit">,
  format: UsageExportFormat,
  pageSize = 1_000,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  let wroteRecord = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (format === "csv") controller.enqueue(encoder.encode(`${usageCsvColumns.join(",")}\r\n`));
        if (format === "json") controller.enqueue(encoder.encode("["));
      }
      const page = await queries.exportRecords({
        ...query,
        limit: pageSize,
        ...(cursor === undefined ? {} : { cursor }),
      });
      if (page.records.length > 0) {
        controller.enqueue(encoder.encode(pageText(format, page.records, !wroteRecord)));
        wroteRecord = true;
      }
      if (page.nextCursor === null) {
        if (format === "json") controller.enqueue(encoder.encode("]\n"));
        controller.close();
        return;
      }
      cursor = page.nextCursor;
    },
  });
}
