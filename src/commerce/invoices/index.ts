export { invoiceCsvHeader, renderInvoiceCsv, renderInvoiceJson } from "./invoice-render.js";
export { createInvoiceService, type InvoiceService, type ReconcileResult } from "./invoice-service.js";
export { type Invoice, type InvoiceDimension, type InvoiceLine, parsePeriod } from "./invoice-types.js";
