// Crockford's base32 alphabet: 32 symbols, so a random byte maps without modulo bias (byte & 31).
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

/** A random, unguessable id, e.g. `randomId("req")` → `req_k3j…` (5 bits of entropy per char). */
export function randomId(prefix: string, length = 24): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += alphabet[byte & 31];
  return `${prefix}_${out}`;
}
