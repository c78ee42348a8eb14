import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ModelportError, toModelportError } from "../core/errors.js";
import type { GatewayEnv } from "./context.js";

/** OpenAI's `error.code` for the codes where clients look for one. */
const openaiCodes: Partial<Record<string, string>> = {
  MP_UNAUTHORIZED: "invalid_api_key",
  MP_UNKNOWN_MODEL: "model_not_found",
  MP_RATE_LIMITED: "rate_limit_exceeded",
  MP_BODY_TOO_LARGE: "request_too_large",
  MP_INVALID_JSON: "invalid_json",
};

export function openaiErrorBody(error: ModelportError) {
  return {
    error: {
      message: error.message,
      type: error.openaiType,
      code: openaiCodes[error.code] ?? error.code,
      param: error.param ?? null,
      modelport_code: error.code,
    },
  };
}

/**
 * Maps any error to the caller's protocol: OpenAI's `{"error":{...}}` on /v1, OIP's
 * `{"error":"..."}` on /v2, `{"error":{"code","message"}}` on the admin API. Only errors that are
 * not ModelportErrors (bugs) become 500s, and their messages are not shown to clients.
 */
export function errorResponse(c: Context<GatewayEnv>, thrown: unknown): Response {
  const internal = !(thrown instanceof ModelportError);
  const error = internal ? toModelportError(thrown) : thrown;
  const shown = internal ? new ModelportError("MP_INTERNAL", `internal error (request ${c.get("requestId")})`) : error;
  c.set("errorCode", shown.code);
  if (shown.retryAfterSeconds !== undefined && shown.status === 429)
    c.header("retry-after", String(Math.max(1, Math.ceil(shown.retryAfterSeconds))));
  const status = shown.status as ContentfulStatusCode;
  switch (c.get("protocol")) {
    case "oip":
      return c.json({ error: shown.message }, status);
    case "admin":
    case "other":
      return c.json({ error: { code: shown.code, message: shown.message, param: shown.param ?? null } }, status);
    default:
      return c.json(openaiErrorBody(shown), status);
  }
}
