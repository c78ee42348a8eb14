import { z } from "zod";
import { ModelportError } from "../../../core/errors.js";
import type { ChatCompletionRequest, EmbeddingsRequest } from "../../../core/openai-types.js";

/**
 * Checks of the fields the gateway and local runtimes rely on. Objects are loose: fields Modelport
 * does not know (tools, response_format, ...) pass through to OpenAI-compatible upstreams.
 */
const contentPart = z.looseObject({ type: z.string().min(1) });
const message = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});
const optionalCount = z.number().int().positive().nullable().optional();

const chatSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: optionalCount,
  max_completion_tokens: optionalCount,
  n: z.number().int().min(1).max(128).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().max(256).optional(),
});

const embeddingsSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().max(256).optional(),
});

function firstIssue(error: z.ZodError): ModelportError {
  const issue = error.issues[0];
  const param = issue?.path.map(String).join(".") || undefined;
  const message = issue ? `${param ? `'${param}': ` : ""}${issue.message}` : "invalid request body";
  return new ModelportError("MP_INVALID_REQUEST", message, param ? { param } : {});
}

function requireObject(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ModelportError("MP_INVALID_REQUEST", "the request body must be a JSON object");
}

export function parseChatRequest(body: unknown): ChatCompletionRequest {
  requireObject(body);
  const result = chatSchema.safeParse(body);
  if (!result.success) throw firstIssue(result.error);
  return result.data as ChatCompletionRequest;
}

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  requireObject(body);
  const result = embeddingsSchema.safeParse(body);
  if (!result.success) throw firstIssue(result.error);
  return result.data as EmbeddingsRequest;
}
