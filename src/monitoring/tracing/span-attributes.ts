/**
 * Attribute names of Modelport's spans beyond the HTTP conventions (http.request.method,
 * http.route, http.response.status_code, url.path, error.type). Token counts use the GenAI
 * conventions' names; the rest live under `modelport.`. A tenant is named by its id, never by a key.
 */
export const spanAttributes = {
  requestId: "modelport.request.id",
  endpoint: "modelport.endpoint",
  target: "modelport.target",
  tenantId: "modelport.tenant.id",
  cacheHit: "modelport.cache.hit",
  errorCode: "modelport.error.code",
  /** On attempt spans: 1-based try number on the target. */
  attempt: "modelport.attempt",
  /** On attempt spans: the target is not the request's first choice. */
  fallback: "modelport.fallback",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
} as const;
