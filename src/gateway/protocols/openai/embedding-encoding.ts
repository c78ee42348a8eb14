import type { EmbeddingsResponse } from "../../../core/openai-types.js";

/**
 * OpenAI returns embeddings as base64 of little-endian float32 when asked (the official clients
 * ask by default), but not every OpenAI-compatible upstream honours it. The gateway makes sure
 * clients get the encoding they asked for, whatever the runtime returned.
 */
export function encodeEmbeddings(
  response: EmbeddingsResponse,
  format: "float" | "base64" | undefined,
): EmbeddingsResponse {
  if (format !== "base64") return response;
  let changed = false;
  const data = response.data.map((item) => {
    if (!Array.isArray(item.embedding)) return item;
    changed = true;
    const floats = Float32Array.from(item.embedding);
    return { ...item, embedding: Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64") };
  });
  return changed ? { ...response, data } : response;
}
