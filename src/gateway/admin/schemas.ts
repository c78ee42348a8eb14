import { z } from "zod";

/** Request bodies of the admin API, shared by the routes and the OpenAPI document. */
export const createTenantBody = z.strictObject({ name: z.string().min(1).max(63) });
export const createKeyBody = z.strictObject({
  name: z.string().min(1).max(128).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
