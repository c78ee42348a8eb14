import { ModelportError } from "../../core/errors.js";
import { nonceBytes, tagBytes } from "./aes-gcm.js";

/**
 * The stored form of an encrypted field: `mpe1.<keyVersion>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
 *
 * - `mpe1` names the format (AES-256-GCM, 96-bit nonce, 128-bit tag, JSON-array associated data),
 *   so a later format can coexist and `isEncryptedField` can tell ciphertext from legacy plaintext.
 * - the key version says which of the tenant's data keys to unwrap; it is also bound into the
 *   associated data, so editing it makes decryption fail rather than pick another key.
 * - tenant, table, row and column are NOT in the string: the reader supplies them from where the
 *   value sits, and the associated data makes a value copied anywhere else fail authentication.
 */
export const formatPrefix = "mpe1";

export interface ParsedField {
  keyVersion: number;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const versionPattern = /^[1-9][0-9]{0,8}$/;
const bodyPattern = /^[A-Za-z0-9_-]+$/;

// Split by hand rather than with one capturing regex over the whole value: on a 3 KB field the
// capture cost more than the AES itself.
function split(value: string): { version: string; body: string } | undefined {
  if (!value.startsWith(`${formatPrefix}.`)) return undefined;
  const dot = value.indexOf(".", formatPrefix.length + 1);
  if (dot === -1) return undefined;
  const version = value.slice(formatPrefix.length + 1, dot);
  const body = value.slice(dot + 1);
  return versionPattern.test(version) && body !== "" ? { version, body } : undefined;
}

export function formatField(keyVersion: number, nonce: Buffer, ciphertext: Buffer, tag: Buffer): string {
  return `${formatPrefix}.${keyVersion}.${Buffer.concat([nonce, ciphertext, tag]).toString("base64url")}`;
}

/** Whether a stored value looks like a Modelport ciphertext (legacy plaintext does not). */
export function isEncryptedField(value: string): boolean {
  const parts = split(value);
  return parts !== undefined && bodyPattern.test(parts.body);
}

export function parseField(value: string): ParsedField {
  const parts = split(value);
  // No character check of the body here: a base64url decoder skips stray characters, and any
  // change to the bytes then fails GCM authentication anyway.
  const body = parts === undefined ? undefined : Buffer.from(parts.body, "base64url");
  if (parts === undefined || body === undefined || body.length < nonceBytes + tagBytes)
    throw new ModelportError("MP_DECRYPT_FAILED", "stored value is not a Modelport ciphertext (mpe1) or is truncated");
  return {
    keyVersion: Number(parts.version),
    nonce: body.subarray(0, nonceBytes),
    ciphertext: body.subarray(nonceBytes, body.length - tagBytes),
    tag: body.subarray(body.length - tagBytes),
  };
}

/** Where a field lives. All four are bound into the associated data. */
export interface FieldContext {
  tenantId: string;
  table: string;
  rowId: string;
  column: string;
}

/**
 * Associated data: a JSON array, which is unambiguous (no "a|b" + "c" = "a" + "b|c" collisions)
 * and cheap to build.
 */
export function associatedData(context: FieldContext, keyVersion: number): Buffer {
  return Buffer.from(
    JSON.stringify([formatPrefix, context.tenantId, context.table, context.rowId, context.column, keyVersion]),
    "utf8",
  );
}

export function assertFieldContext(context: FieldContext): void {
  for (const name of ["tenantId", "table", "rowId", "column"] as const) {
    const value = context[name];
    if (typeof value !== "string" || value === "")
      throw new ModelportError("MP_INTERNAL", `field encryption needs a non-empty ${name}`);
  }
}
