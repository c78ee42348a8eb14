import { createHash } from "node:crypto";
import type { JsonValue } from "./audit-types.js";
import { canonicalJson } from "./canonical-json.js";

/** The `prev_hash` of entry 1. */
export const genesisHash = "0".repeat(64);

export interface HashedFields {
  seq: number;
  time: string;
  tenantId: string | null;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, JsonValue>;
  prevHash: string;
}

/**
 * SHA-256 (hex) over the canonical JSON of every field except the hash itself, with a format
 * version `v`. `seq` is included, so an entry commits to its position: moving it is detectable
 * even where the links happen to line up.
 */
export function entryHash(fields: HashedFields): string {
  const body = canonicalJson({
    v: 1,
    seq: fields.seq,
    time: fields.time,
    tenantId: fields.tenantId,
    actor: fields.actor,
    action: fields.action,
    target: fields.target,
    details: fields.details,
    prevHash: fields.prevHash,
  });
  return createHash("sha256").update(body, "utf8").digest("hex");
}
