export { createTokenCounter, messageText, type TokenCounter } from "./token-counter.js";
export {
  chatUsageCounts,
  completionText,
  createStreamUsageCollector,
  embeddingsUsageCounts,
  predictUsageCounts,
  reportedTokens,
  type StreamUsageCollector,
  type UsageCounts,
} from "./usage-counts.js";
