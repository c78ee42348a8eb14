import type { KeyObject } from "node:crypto";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { attempt } from "../../storage/errors.js";
import type { JsonValue } from "./audit-types.js";
import { entryHash, genesisHash, type HashedFields } from "./entry-hash.js";
import { publicKeyFingerprint, verifyCheckpointSignature } from "./signing-key.js";

export type AuditBreakKind =
  | "edited"
  | "deleted"
  | "reordered"
  | "truncated"
  | "relinked"
  | "checkpoint-mismatch"
  | "checkpoint-forged"
  | "checkpoint-untrusted";

export interface AuditBreak {
  /** The entry (sequence number) where the chain first fails. */
  seq: number;
  kind: AuditBreakKind;
  /** Short and printable: `hash mismatch (edited)`. */
  reason: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Entries that verified before the first break (all of them when ok). */
  entries: number;
  /** Checkpoints whose signature verified. */
  checkpoints: number;
  lastSeq: number;
  lastHash: string;
  firstBroken?: AuditBreak | undefined;
}

export interface VerifyOptions {
  /** Public keys whose checkpoint signatures are accepted (the data dir's key, and any shared ones). */
  trustedKeys: readonly KeyObject[];
  batchSize?: number | undefined;
}

type EntryRow = {
  seq: number;
  time: string;
  tenant_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  details_json: string;
  prev_hash: string;
  hash: string;
};

function fieldsOf(row: EntryRow): HashedFields | undefined {
  let details: unknown;
  try {
    details = JSON.parse(row.details_json);
  } catch {
    return undefined;
  }
  if (typeof details !== "object" || details === null || Array.isArray(details)) return undefined;
  return {
    seq: Number(row.seq),
    time: row.time,
    tenantId: row.tenant_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: details as Record<string, JsonValue>,
    prevHash: row.prev_hash,
  };
}

function safeHash(fields: HashedFields): string | undefined {
  try {
    return entryHash(fields);
  } catch {
    return undefined; // details that canonical JSON rejects: counts as a mismatch
  }
}

/**
 * Walks the whole chain in seq order and checks, for each entry: no gap in seq, the hash over its
 * canonical content, the link to the previous entry's hash, and agreement with any signed
 * checkpoint at that seq; then that no signed checkpoint lies beyond the last entry (a truncated
 * tail). Every checkpoint signature is checked against the trusted keys. Reports the break with
 * the lowest seq. Entries appended after the last checkpoint can be removed without trace:
 * checkpoint often (and at shutdown), and ship checkpoints off the box (logs) to narrow that.
 */
export async function verifyAuditChain(
  database: Pick<DatabaseHandle, "db">,
  options: VerifyOptions,
): Promise<AuditVerification> {
  const { db } = database;
  const batchSize = options.batchSize ?? 1_000;
  const trusted = new Map(options.trustedKeys.map((key) => [publicKeyFingerprint(key), key]));

  const checkpointRows = await attempt("reading audit checkpoints", () =>
    db.selectFrom("audit_checkpoints").selectAll().orderBy("seq", "asc").execute(),
  );
  const checkpointHashes = new Map<number, string>();
  let checkpointBreak: AuditBreak | undefined;
  for (const row of checkpointRows) {
    const seq = Number(row.seq);
    const key = trusted.get(row.key_fingerprint);
    const statement = { seq, hash: row.hash, time: row.time, keyFingerprint: row.key_fingerprint };
    let problem: AuditBreak | undefined;
    if (key === undefined)
      problem = {
        seq,
        kind: "checkpoint-untrusted",
        reason: `checkpoint signed by an untrusted key (${row.key_fingerprint.slice(0, 16)})`,
      };
    else if (!verifyCheckpointSignature(key, statement, row.signature))
      problem = { seq, kind: "checkpoint-forged", reason: "checkpoint signature invalid (forged)" };
    if (problem === undefined) checkpointHashes.set(seq, row.hash);
    else checkpointBreak ??= problem;
  }

  let expected = 1;
  let previousHash = genesisHash;
  let walkBreak: AuditBreak | undefined;
  let after = 0;
  walk: for (;;) {
    const rows = await attempt("reading audit entries", () =>
      db
        .selectFrom("audit_entries")
        .selectAll()
        .where("seq", ">", after)
        .orderBy("seq", "asc")
        .limit(batchSize)
        .execute(),
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) {
        walkBreak = { seq: expected, kind: "deleted", reason: "missing (deleted)" };
        break walk;
      }
      const fields = fieldsOf(row);
      const computed = fields === undefined ? undefined : safeHash(fields);
      if (computed !== row.hash) {
        walkBreak = await diagnose(database, row, fields);
        break walk;
      }
      if (row.prev_hash !== previousHash) {
        walkBreak = {
          seq,
          kind: "relinked",
          reason: "previous-hash mismatch (this or the previous entry was altered and re-hashed)",
        };
        break walk;
      }
      const signed = checkpointHashes.get(seq);
      if (signed !== undefined && signed !== row.hash) {
        walkBreak = {
          seq,
          kind: "checkpoint-mismatch",
          reason: "differs from its signed checkpoint (entries up to here were rewritten)",
        };
        break walk;
      }
      previousHash = row.hash;
      expected++;
      after = seq;
    }
    if (rows.length < batchSize) break;
  }

  const lastSeq = expected - 1;
  if (walkBreak === undefined) {
    const beyond = [...checkpointHashes.keys()].filter((seq) => seq > lastSeq);
    if (beyond.length > 0)
      walkBreak = {
        seq: lastSeq + 1,
        kind: "truncated",
        reason: `missing (truncated: a signed checkpoint covers entry ${Math.max(...beyond)})`,
      };
  }
  const breaks = [walkBreak, checkpointBreak].filter((each): each is AuditBreak => each !== undefined);
  breaks.sort((a, b) => a.seq - b.seq);
  const firstBroken = breaks[0];
  return {
    ok: firstBroken === undefined,
    entries: lastSeq,
    checkpoints: checkpointHashes.size,
    lastSeq,
    lastHash: previousHash,
    ...(firstBroken === undefined ? {} : { firstBroken }),
  };
}

/**
 * Names why an entry's hash does not match. If the content hashes correctly at another seq, the
 * entry is intact but was moved: when its predecessor still exists somewhere, entries were
 * reordered; when the predecessor is gone, an earlier entry was deleted and the rest renumbered.
 * Otherwise its content was edited.
 */
async function diagnose(
  database: Pick<DatabaseHandle, "db">,
  row: EntryRow,
  fields: HashedFields | undefined,
): Promise<AuditBreak> {
  const seq = Number(row.seq);
  let original: number | undefined;
  if (fields !== undefined)
    for (let distance = 1; distance <= 64 && original === undefined; distance++)
      for (const candidate of [seq + distance, seq - distance])
        if (candidate >= 1 && safeHash({ ...fields, seq: candidate }) === row.hash) original = candidate;
  if (original === undefined) return { seq, kind: "edited", reason: "hash mismatch (edited)" };
  const predecessor =
    row.prev_hash === genesisHash
      ? { seq: 0 }
      : await attempt("reading audit entries", () =>
          database.db.selectFrom("audit_entries").select("seq").where("hash", "=", row.prev_hash).executeTakeFirst(),
        );
  if (predecessor === undefined)
    return {
      seq,
      kind: "deleted",
      reason: `hash mismatch: entry ${original} renumbered to ${seq} (an earlier entry was deleted)`,
    };
  return { seq, kind: "reordered", reason: `out of order (reordered): entry ${original} found at ${seq}` };
}
