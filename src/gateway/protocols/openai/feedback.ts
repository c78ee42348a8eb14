import type { Hono } from "hono";
import { ModelportError } from "../../../core/errors.js";
import type { GatewayEnv } from "../../context.js";
import { readJsonBody } from "../../stages/json-body.js";

/** What the feedback route needs (monitoring/feedback implements it, tenant-scoped). */
export interface FeedbackPort {
  submit(tenantId: string, body: unknown): Promise<Record<string, unknown>>;
}

/**
 * `POST /v1/feedback`: a label, score or thumbs for an earlier request (by its x-request-id), from
 * the same tenant. Delayed labels are welcome; a second one for a request replaces the first.
 */
export function registerFeedbackRoute(app: Hono<GatewayEnv>, feedback: FeedbackPort | undefined): void {
  app.post("/v1/feedback", async (c) => {
    if (!feedback) throw new ModelportError("MP_UNSUPPORTED", "feedback is not enabled on this server");
    const principal = c.get("principal");
    if (!principal) throw new ModelportError("MP_UNAUTHORIZED", "a tenant API key is required");
    const receipt = await feedback.submit(principal.tenantId, await readJsonBody(c, 64 * 1024));
    return c.json({ object: "feedback", ...receipt });
  });
}
