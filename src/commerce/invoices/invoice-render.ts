import { formatMicros } from "../money/money.js";
import type { Invoice, InvoiceLine } from "./invoice-types.js";

/** The invoice document as JSON (amounts in integer micros, plus `total` as a decimal string). */
export function renderInvoiceJson(invoice: Invoice): string {
  return `${JSON.stringify({ ...invoice, total: formatMicros(invoice.totalMicros) }, null, 2)}\n`;
}

function csvField(value: string | number | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const invoiceCsvHeader = [
  "period",
  "tenant",
  "type",
  "endpoint",
  "model",
  "price_version",
  "dimension",
  "description",
  "quantity",
  "unit",
  "unit_price",
  "amount",
  "currency",
] as const;

/**
 * RFC 4180 CSV: one row per usage line, then the subtotal, plan lines and total. Money columns
 * are exact decimals with six places (micros), never floats.
 */
export function renderInvoiceCsv(invoice: Invoice): string {
  const tenant = invoice.tenantName ?? invoice.tenantId;
  const row = (type: string, line: Partial<InvoiceLine> & { amountMicros: number; description: string }) =>
    [
      invoice.period,
      tenant,
      type,
      line.endpoint ?? null,
      line.model ?? null,
      line.priceVersionId ?? null,
      line.dimension ?? null,
      line.description,
      line.quantity ?? null,
      line.unit ?? null,
      line.unitPriceMicros === undefined ? null : formatMicros(line.unitPriceMicros),
      formatMicros(line.amountMicros),
      invoice.currency,
    ]
      .map(csvField)
      .join(",");
  const rows = [invoiceCsvHeader.join(",")];
  for (const line of invoice.lines) rows.push(row("usage", line));
  rows.push(row("subtotal", { description: "usage subtotal", amountMicros: invoice.usageSubtotalMicros }));
  for (const line of invoice.adjustments) rows.push(row("plan", line));
  rows.push(row("total", { description: `total (${invoice.status})`, amountMicros: invoice.totalMicros }));
  return `${rows.join("\r\n")}\r\n`;
}
