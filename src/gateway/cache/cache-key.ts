import { createHash, createHmac } from "node:crypto";

/** JSON with object keys sorted at every level, so equal requests serialize equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sorted(value));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== "object") return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) result[key] = sorted(field);
  }
  return result;
}

/** Request fields that do not change the answer: who asked, and how it is delivered. */
const ignoredFields = new Set(["user", "stream", "stream_options"]);

/**
 * The cache key of a request: a SHA-256 over the tenant, the endpoint and the request as the model
 * would receive it (after guards and PII filtering). The tenant is part of the hash, so one
 * tenant can never be served another's answer. With `secret`, an HMAC: whoever can read the store
 * cannot confirm a guessed prompt by hashing it.
 */
export function responseCacheKey(
  parts: { tenantId: string | null; endpoint: string; kind: string; request: object },
  secret?: Buffer,
): string {
  const request = Object.fromEntries(Object.entries(parts.request).filter(([name]) => !ignoredFields.has(name)));
  const material = canonicalJson({ v: 1, tenant: parts.tenantId, endpoint: parts.endpoint, kind: parts.kind, request });
  const hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  return hash.update(material).digest("hex");
}
