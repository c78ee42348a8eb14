import type { Context } from "hono";
import { ModelportError } from "../../core/errors.js";
import type { GatewayEnv } from "../context.js";

/**
 * Reads and parses a JSON body with a size cap. The cap is checked on Content-Length first and then
 * on the bytes actually read (chunked bodies have no length), so an oversized body is refused with
 * 413 without being buffered whole.
 */
export async function readJsonBody(c: Context<GatewayEnv>, limitBytes: number): Promise<unknown> {
  const declared = c.req.header("content-length");
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  // With a declared length within the limit, HTTP framing caps the body: read it in one go, which
  // @hono/node-server serves straight from the socket (no web-stream machinery per request).
  if (declared !== undefined) return parseJson(await c.req.raw.text());
  const body = c.req.raw.body;
  if (!body) throw new ModelportError("MP_INVALID_JSON", "the request needs a JSON body");
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel();
      throw tooLarge(limitBytes);
    }
    parts.push(value);
  }
  return parseJson(Buffer.concat(parts, total).toString("utf8"));
}

function parseJson(text: string): unknown {
  if (text.trim().length === 0) throw new ModelportError("MP_INVALID_JSON", "the request needs a JSON body");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelportError("MP_INVALID_JSON", `the body is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function tooLarge(limitBytes: number): ModelportError {
  return new ModelportError("MP_BODY_TOO_LARGE", `the request body exceeds the limit of ${limitBytes} bytes`);
}
