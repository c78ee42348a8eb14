import type { AlertDispatcher, AlertSeverity } from "../alerts/dispatcher.js";
import type { FeedbackStore } from "./store.js";
import type { LiveQuality, LiveQualityQuery } from "./types.js";

export interface RetrainRequest {
  tenantId: string | null;
  endpoint: string;
  version: string | null;
  quality: LiveQuality;
}

export interface QualityCheckerOptions {
  store: Pick<FeedbackStore, "liveQuality">;
  alerts: Pick<AlertDispatcher, "fire">;
  /** Called once per new accuracy-low alert (not on its de-duplicated repeats); e.g. queue a training job. */
  onRetrainRequested?: (request: RetrainRequest) => void | Promise<void>;
}

export interface QualityThresholds {
  /** Breach when accuracy falls below this. */
  minAccuracy?: number;
  /** Breach when macro F1 falls below this. */
  minF1?: number;
  /** Fewer labeled predictions than this decide nothing (default 20): a few labels are noise. */
  minLabels?: number;
  severity?: AlertSeverity;
}

export interface QualityCheckResult {
  quality: LiveQuality;
  breached: boolean;
  reasons: string[];
  alertId: string | null;
  /** True when this check fired a new alert (and asked for retraining). */
  fired: boolean;
}

/** Checks live quality against thresholds; a breach fires `accuracy-low` and can ask for retraining. */
export function createQualityChecker(options: QualityCheckerOptions) {
  return {
    async check(query: LiveQualityQuery & QualityThresholds): Promise<QualityCheckResult> {
      const quality = await options.store.liveQuality(query);
      const minLabels = query.minLabels ?? 20;
      const reasons: string[] = [];
      if (quality.labeled >= minLabels) {
        if (query.minAccuracy !== undefined && quality.accuracy !== null && quality.accuracy < query.minAccuracy)
          reasons.push(`accuracy ${quality.accuracy.toFixed(4)} < ${query.minAccuracy}`);
        if (query.minF1 !== undefined && quality.macroF1 !== null && quality.macroF1 < query.minF1)
          reasons.push(`macro F1 ${quality.macroF1.toFixed(4)} < ${query.minF1}`);
      }
      if (reasons.length === 0) return { quality, breached: false, reasons, alertId: null, fired: false };
      const tenantId = query.tenantId ?? null;
      const version = query.version ?? null;
      // No time bucket: the dispatcher's de-dup window makes a lasting breach one alert (and one retrain).
      const { alert, isNew } = await options.alerts.fire({
        tenantId,
        kind: "accuracy-low",
        dedupKey: `accuracy:${tenantId ?? "*"}:${query.endpoint}:${version ?? "*"}:${query.target ?? "*"}`,
        severity: query.severity ?? "warning",
        summary: `live quality of ${query.endpoint}${version ? `@${version}` : ""} is below its threshold: ${reasons.join("; ")}`,
        details: {
          endpoint: query.endpoint,
          version,
          target: quality.target,
          window: quality.window,
          labeled: quality.labeled,
          accuracy: quality.accuracy,
          macroF1: quality.macroF1,
          minAccuracy: query.minAccuracy ?? null,
          minF1: query.minF1 ?? null,
        },
      });
      if (isNew) await options.onRetrainRequested?.({ tenantId, endpoint: query.endpoint, version, quality });
      return { quality, breached: true, reasons, alertId: alert.id, fired: isNew };
    },
  };
}

export type QualityChecker = ReturnType<typeof createQualityChecker>;
