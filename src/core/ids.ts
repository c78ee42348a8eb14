// Crockford's base32 alphabet: 32 symbols, so a random byte maps without modulo bias (byte & 31).
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

// Random bytes are drawn in blocks: one CSPRNG call per ~170 ids instead of one per id, which
// matters on the request path (every request gets an id).
const pool = new Uint8Array(4096);
let offset = pool.length;

function randomBytes(length: number): Uint8Array {
  if (length > pool.length) return globalThis.crypto.getRandomValues(new Uint8Array(length));
  if (offset + length > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + length);
  offset += length;
  return bytes;
}

/** A random, unguessable id, e.g. `randomId("req")` → `req_k3j…` (5 bits of entropy per char). */
export function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = `${prefix}_`;
  for (let index = 0; index < length; index++) out += alphabet[(bytes[index] as number) & 31];
  return out;
}
