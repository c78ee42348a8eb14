import { z } from "zod";
import type { AdminRoute } from "./route-table.js";

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

/**
 * The admin API's OpenAPI 3.1 document, generated from the route table. Each operation names the
 * permission it needs in `x-modelport-permission` (see commerce/rbac.ts for the roles that hold it).
 */
export function buildOpenApiDocument(version: string, routes: readonly AdminRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [...route.path.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => ({
      name: match[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = {
      summary: route.summary,
      "x-modelport-permission": route.permission,
      security: [{ bearer: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: z.toJSONSchema(route.body, { io: "input" }) } },
            },
          }
        : {}),
      responses: {
        [String(route.status ?? 200)]: {
          description: "OK",
          content: {
            [route.produces ?? "application/json"]: {
              schema: route.produces ? { type: "string" } : { type: "object" },
            },
          },
        },
        default: { description: "Error", content: { "application/json": { schema: errorSchema } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Modelport admin API",
      version,
      description:
        "Authenticate with the admin token (operator: everything) or a tenant API key with the admin scope, which acts within its tenant with its role.",
    },
    servers: [{ url: "/admin/v1" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
