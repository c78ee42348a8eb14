import { z } from "zod";
import { ModelportError } from "../../core/errors.js";

/**
 * The body of `POST /v1/feedback`: a request id (the `x-request-id` the gateway returned) and
 * exactly one of `label`, `score` or `thumbs` ("up"/"down" or 1/-1).
 */
const feedbackBodySchema = z
  .object({
    request_id: z.string().min(1).max(128),
    label: z.union([z.string().min(1).max(256), z.number().finite()]).optional(),
    score: z.number().finite().optional(),
    thumbs: z.union([z.literal("up"), z.literal("down"), z.literal(1), z.literal(-1)]).optional(),
  })
  .strict();

export interface ParsedFeedbackBody {
  requestId: string;
  label?: string | number;
  score?: number;
  thumbs?: 1 | -1;
}

/** Validates a parsed JSON body; throws MP_INVALID_REQUEST naming the offending field. */
export function parseFeedbackBody(body: unknown): ParsedFeedbackBody {
  const result = feedbackBodySchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    // An unknown field has an empty path; name the field itself.
    const param =
      (issue?.code === "unrecognized_keys" ? issue.keys[0] : issue?.path.map(String).join(".")) || undefined;
    throw new ModelportError("MP_INVALID_REQUEST", `invalid feedback: ${issue?.message ?? "bad body"}`, {
      ...(param ? { param } : {}),
    });
  }
  const { request_id: requestId, label, score, thumbs } = result.data;
  const parsed: ParsedFeedbackBody = { requestId };
  if (label !== undefined) parsed.label = label;
  if (score !== undefined) parsed.score = score;
  if (thumbs !== undefined) parsed.thumbs = thumbs === "up" || thumbs === 1 ? 1 : -1;
  return parsed;
}
