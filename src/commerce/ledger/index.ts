export { type JournalSynchronous, openJournal } from "./journal.js";
export { createLedger, journalPathFor, type Ledger, type LedgerOptions, type LedgerStats } from "./ledger.js";
export { createUsageMeter, type MeterEvent, type UsageMeter } from "./meter.js";
export {
  parseUsageExportFormat,
  type UsageExportFormat,
  usageCsvColumns,
  usageExportStream,
} from "./usage-export.js";
export {
  createUsageQueries,
  type ExportPage,
  type ExportQuery,
  type UsageQueries,
  type UsageQuery,
  type UsageReport,
  type UsageTotals,
} from "./usage-query.js";
export type { UsageKind, UsageRecord, UsageStatus } from "./usage-record.js";
