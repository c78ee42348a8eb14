/** Feedback: predicted labels, delayed labels/scores/thumbs joined to them, live quality and its alert. */
export { type ParsedFeedbackBody, parseFeedbackBody } from "./body.js";
export {
  createQualityChecker,
  type QualityChecker,
  type QualityCheckerOptions,
  type QualityCheckResult,
  type QualityThresholds,
  type RetrainRequest,
} from "./quality-check.js";
export { createFeedbackStore, type FeedbackStore, type FeedbackStoreOptions } from "./store.js";
export type {
  FeedbackInput,
  FeedbackKind,
  FeedbackReceipt,
  LiveQuality,
  LiveQualityQuery,
  PredictionRecord,
  QualityWindow,
} from "./types.js";
