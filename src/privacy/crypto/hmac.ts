import { createHmac } from "node:crypto";

/** HMAC-SHA256 as lowercase hex (RFC 2104 / FIPS 198-1; checked against RFC 4231 in the tests). */
export function hmacSha256Hex(key: Uint8Array, value: string | Uint8Array): string {
  return createHmac("sha256", key).update(value).digest("hex");
}
