import { createHmac } from "node:crypto";

/**
 * End users are logged as a keyed hash bound to the tenant: the same user of two tenants gets two
 * hashes, and without the server's key a hash cannot be matched to a guessed id.
 */
export function endUserHash(hashingKey: Buffer, tenantId: string, endUser: string): string {
  return createHmac("sha256", hashingKey).update(tenantId).update("\u0000").update(endUser).digest("hex");
}
