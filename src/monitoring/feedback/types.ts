/** A predicted label as the gateway records it for classify/predict requests. */
export interface PredictionRecord {
  requestId: string;
  tenantId: string;
  endpoint: string;
  target: string | null;
  modelVersion: string | null;
  /** Labels are compared as text: 1 and "1" are the same class. */
  predictedLabel: string | number;
  /** When the request was served, ISO-8601 UTC. */
  createdAt: string;
}

export type FeedbackKind = "label" | "score" | "thumbs";

/** One piece of feedback: exactly one of label, score or thumbs. */
export interface FeedbackInput {
  tenantId: string;
  requestId: string;
  label?: string | number | undefined;
  score?: number | undefined;
  /** +1 (up) or -1 (down). */
  thumbs?: 1 | -1 | undefined;
}

export interface FeedbackReceipt {
  requestId: string;
  kind: FeedbackKind;
  endpoint: string | null;
  target: string | null;
  modelVersion: string | null;
  /** True when feedback for this request existed and was replaced (a corrected, delayed label). */
  updated: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface QualityWindow {
  /** Inclusive, ISO-8601. */
  from: string;
  /** Exclusive, ISO-8601. */
  to: string;
}

export interface LiveQualityQuery {
  /** Omitted: every tenant (operator-wide rules). */
  tenantId?: string | undefined;
  endpoint: string;
  version?: string | undefined;
  target?: string | undefined;
  /** Over request time: the predictions served in the window, whenever their labels arrived. */
  window: QualityWindow;
}

export interface LiveQuality {
  endpoint: string;
  version: string | null;
  target: string | null;
  window: QualityWindow;
  /** Predictions in the window that have a label. */
  labeled: number;
  /** Null when nothing is labeled yet. */
  accuracy: number | null;
  /** Macro-averaged F1 over the union of true and predicted classes (zero_division=0). */
  macroF1: number | null;
  /** Thumbs given for requests in the window, and the share of them that were up. */
  thumbs: number;
  thumbsUpRate: number | null;
  scored: number;
  meanScore: number | null;
  /** True when more labeled rows than `maxRows` matched and only the newest were used. */
  truncated: boolean;
}
