export { admissionScopes, estimateTokens, type LimitSettings } from "./admission-scopes.js";
export { decisionHeaders, formatResetDuration, rateLimitError, rateLimitHeaders } from "./http-headers.js";
export type * from "./limiter.js";
export { createMemoryLimiter, type MemoryLimiter, type MemoryLimiterOptions } from "./memory-limiter.js";
export { createRedisLimiter, type RedisLimiterOptions } from "./redis-limiter.js";
