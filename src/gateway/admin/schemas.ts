import { z } from "zod";
import { keyScopes, roles } from "../../core/storage.js";

/** Request bodies of the admin API, shared by the routes and the OpenAPI document. */
const limit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional();
export const limitsBody = z.strictObject({
  requestsPerMinute: limit,
  tokensPerMinute: limit,
  concurrency: limit,
  monthlyBudgetMicros: limit.describe("Monthly budget in micro-units of USD (1 USD = 1000000)."),
});

export const createTenantBody = z.strictObject({ name: z.string().min(1).max(63), limits: limitsBody.optional() });
export const createKeyBody = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  scopes: z
    .array(z.enum(keyScopes as [string, ...string[]]))
    .min(1)
    .optional(),
  role: z.enum(roles as [string, ...string[]]).optional(),
  userId: z.string().min(1).optional(),
  limits: limitsBody.optional(),
});
export const rotateKeyBody = z.strictObject({
  overlapSeconds: z.number().int().min(0).max(2_592_000).default(3_600).describe("How long the old key keeps working."),
});
export const updateKeyBody = z.strictObject({
  name: z.string().min(1).max(128).nullable().optional(),
  limits: limitsBody.optional(),
});
export const createUserBody = z.strictObject({
  email: z.string().min(3).max(320),
  role: z.enum(roles as [string, ...string[]]),
});
export const updateUserBody = z.strictObject({
  role: z.enum(roles as [string, ...string[]]).optional(),
  disabled: z.boolean().optional(),
});
export const eraseEndUserBody = z.strictObject({
  user: z.string().min(1).max(256).describe("The end user id sent as OpenAI `user` or x-modelport-user."),
});
export const createWebhookBody = z.strictObject({ url: z.url({ protocol: /^https?$/ }) });
