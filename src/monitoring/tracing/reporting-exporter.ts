import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** Failed exports are reported at most this often (a dead collector would otherwise log every batch). */
const reportEveryMs = 60_000;

/**
 * Passes spans to the OTLP exporter and reports failed exports, which the SDK would otherwise hand
 * to its (silent by default) diagnostics: one report at the first failure, then at most one a
 * minute with the number of spans lost since the last report.
 */
export class ReportingExporter implements SpanExporter {
  private lostSpans = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: SpanExporter,
    private readonly onExportError: ((error: Error, lostSpans: number) => void) | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.failed(result.error, spans.length);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  private failed(error: Error | undefined, spans: number): void {
    this.lostSpans += spans;
    const now = this.now();
    if (now - this.lastReportAt < reportEveryMs) return;
    this.lastReportAt = now;
    const lost = this.lostSpans;
    this.lostSpans = 0;
    try {
      this.onExportError?.(error ?? new Error("span export failed"), lost);
    } catch {
      // a reporter must not break exporting
    }
  }
}
