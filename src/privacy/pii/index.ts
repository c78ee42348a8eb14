/** Modelport's PII engine: recognizers, operators, pseudonymization and policies. */
export * from "./checksums.js";
export * from "./dataset-policy.js";
export {
  createPiiEngine,
  type DetectOptions,
  defaultMaxInputLength,
  defaultPiiEngine,
  defaultPiiThreshold,
  type PiiEngine,
  type PiiEngineOptions,
} from "./engine.js";
export {
  anonymize,
  createOperator,
  maskValue,
  type PiiOperatorName,
  type PiiOperatorOptions,
  piiOperatorNames,
} from "./operators.js";
export { resolveOverlaps } from "./overlap.js";
export {
  decryptPiiText,
  decryptPiiTokens,
  decryptPiiValue,
  encryptPiiValue,
  hmacSha256,
  parsePiiKey,
  piiKeyFingerprint,
} from "./pii-crypto.js";
export * from "./policy.js";
export {
  createPseudonymSession,
  createStreamReidentifier,
  type PseudonymSession,
  reidentify,
  type StreamReidentifier,
} from "./pseudonymize.js";
export * from "./types.js";
