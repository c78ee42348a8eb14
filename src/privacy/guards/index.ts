export { type CapsPolicy, type CapsResult, capsPolicySchema, checkCaps } from "./caps.js";
export { checkEcho, createEchoMonitor, type EchoMonitor, type EchoOptions, type EchoVerdict } from "./echo.js";
export {
  answerBlockedError,
  checkResponseGuards,
  createStreamResponseGuard,
  evaluateRequestGuards,
  type GuardPolicy,
  guardBlockedError,
  guardPolicySchema,
  parseGuardPolicy,
  type RequestGuardResult,
  type ResponseGuardResult,
  type StreamResponseGuard,
} from "./guard-policy.js";
export {
  detectInjection,
  type InjectionOptions,
  type InjectionResult,
  type InjectionSignal,
  type InjectionSignalName,
  injectionSignalNames,
  noisyOr,
} from "./injection.js";
export { estimateTokens, messageText, systemPromptsOf } from "./message-text.js";
export { combineVerdicts, type GuardFinding, type GuardName, type GuardVerdict } from "./types.js";
