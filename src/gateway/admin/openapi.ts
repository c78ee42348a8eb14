import { z } from "zod";
import { createKeyBody, createTenantBody } from "./schemas.js";

const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, param: { type: ["string", "null"] } },
      required: ["code", "message"],
    },
  },
};

const tenant = {
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" }, createdAt: { type: "string", format: "date-time" } },
  required: ["id", "name", "createdAt"],
};

const key = {
  type: "object",
  properties: {
    id: { type: "string" },
    tenantId: { type: "string" },
    name: { type: ["string", "null"] },
    prefix: { type: "string" },
    createdAt: { type: "string" },
    revokedAt: { type: ["string", "null"] },
    lastUsedAt: { type: ["string", "null"] },
    expiresAt: { type: ["string", "null"] },
  },
};

function op(summary: string, response: object, options: { body?: object; status?: string; params?: string[] } = {}) {
  return {
    summary,
    security: [{ adminToken: [] }],
    ...(options.params
      ? { parameters: options.params.map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })) }
      : {}),
    ...(options.body
      ? { requestBody: { required: true, content: { "application/json": { schema: options.body } } } }
      : {}),
    responses: {
      [options.status ?? "200"]: { description: "OK", content: { "application/json": { schema: response } } },
      default: { description: "Error", content: { "application/json": { schema: errorSchema } } },
    },
  };
}

/** The admin API's OpenAPI 3.1 document, served at /admin/v1/openapi.json. */
export function buildOpenApiDocument(version: string) {
  const list = (item: object) => ({ type: "object", properties: { data: { type: "array", items: item } } });
  return {
    openapi: "3.1.0",
    info: { title: "Modelport admin API", version },
    servers: [{ url: "/admin/v1" }],
    components: { securitySchemes: { adminToken: { type: "http", scheme: "bearer" } } },
    paths: {
      "/tenants": {
        post: op("Create a tenant", tenant, { body: z.toJSONSchema(createTenantBody), status: "201" }),
        get: op("List tenants", list(tenant)),
      },
      "/tenants/{tenant}": { get: op("Show a tenant (id or name)", tenant, { params: ["tenant"] }) },
      "/tenants/{tenant}/keys": {
        post: op(
          "Create an API key; the key is in this response only",
          { ...key, properties: { ...key.properties, key: { type: "string" }, tenant: { type: "string" } } },
          { body: z.toJSONSchema(createKeyBody), status: "201", params: ["tenant"] },
        ),
        get: op("List a tenant's keys (never the keys themselves)", list(key), { params: ["tenant"] }),
      },
      "/keys/{id}/revoke": { post: op("Revoke a key; it fails at once", key, { params: ["id"] }) },
      "/endpoints": { get: op("Endpoints, targets, readiness and breaker states", list({ type: "object" })) },
    },
  };
}
