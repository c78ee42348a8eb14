import type { KeyObject } from "node:crypto";
import type { Kysely } from "kysely";
import { type Clock, systemClock } from "../../core/clock.js";
import { ModelportError } from "../../core/errors.js";
import { deriveKey } from "../../server/master-key.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { attempt } from "../../storage/errors.js";
import type { Database } from "../../storage/schema.js";
import { hmacSha256Hex } from "../crypto/hmac.js";
import { isAuditAction } from "./audit-actions.js";
import type { AuditCheckpoint, AuditEntry, AuditEvent, AuditRecorder, JsonValue } from "./audit-types.js";
import { canonicalJson } from "./canonical-json.js";
import { withChainLock } from "./chain-lock.js";
import { entryHash, genesisHash } from "./entry-hash.js";
import { type AuditFilter, type AuditPage, listAuditEntries } from "./list-entries.js";
import { type AuditSigner, checkpointStatement, loadOrCreateAuditSigner } from "./signing-key.js";
import { type AuditVerification, verifyAuditChain } from "./verify-chain.js";

export interface AuditLogOptions {
  database: Pick<DatabaseHandle, "db" | "dialect" | "location">;
  /** The server's master key; the HMAC key for sensitive fields is derived from it. */
  masterKey: Buffer;
  clock?: Clock | undefined;
  /** Signs checkpoints. Default: `<dataDir>/audit-signing.key`, created on the first checkpoint. */
  signer?: AuditSigner | undefined;
  dataDir?: string | undefined;
  /** A signed checkpoint every N entries, in the same transaction (default 1000; 0: on demand only). */
  checkpointEvery?: number | undefined;
}

export interface AuditLog extends AuditRecorder {
  /** Appends one entry (serialised across processes) and returns it. */
  record(event: AuditEvent): Promise<AuditEntry>;
  /** Signs the current last entry (no-op returning the existing one if already signed). */
  createCheckpoint(): Promise<AuditCheckpoint | undefined>;
  list(filter?: AuditFilter): Promise<AuditPage>;
  /** Trusts the signer's own key plus `trustedKeys`. */
  verify(options?: { trustedKeys?: readonly KeyObject[] }): Promise<AuditVerification>;
  /** HMAC of a candidate value, to search for a sensitive field without storing it. */
  hmacOf(value: string): string;
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { database } = options;
  const clock = options.clock ?? systemClock;
  const hmacKey = deriveKey(options.masterKey, "audit-field-hmac");
  const checkpointEvery = options.checkpointEvery ?? 1_000;
  let signer = options.signer;
  const getSigner = (): AuditSigner | undefined => {
    if (signer === undefined && options.dataDir !== undefined) signer = loadOrCreateAuditSigner(options.dataDir);
    return signer;
  };

  function storedDetails(event: AuditEvent): Record<string, JsonValue> {
    const details: Record<string, JsonValue> = { ...(event.details ?? {}) };
    if (event.sensitive !== undefined && Object.keys(event.sensitive).length > 0) {
      if ("hmac" in details)
        throw new ModelportError("MP_INTERNAL", "audit details may not use the reserved key 'hmac'");
      const hashed: Record<string, JsonValue> = {};
      for (const [name, value] of Object.entries(event.sensitive)) hashed[name] = hmacSha256Hex(hmacKey, value);
      details.hmac = hashed;
    }
    return details;
  }

  async function signLatest(db: Kysely<Database>, seq: number, hash: string): Promise<AuditCheckpoint | undefined> {
    const existing = await db.selectFrom("audit_checkpoints").selectAll().where("seq", "=", seq).executeTakeFirst();
    if (existing !== undefined) return toCheckpoint(existing);
    const active = getSigner();
    if (active === undefined) return undefined;
    const time = new Date(clock.now()).toISOString();
    const statement = { seq, hash, time, keyFingerprint: active.fingerprint };
    const checkpoint = { ...statement, signature: active.sign(checkpointStatement(statement)) };
    await db
      .insertInto("audit_checkpoints")
      .values({
        seq,
        hash,
        signature: checkpoint.signature,
        key_fingerprint: checkpoint.keyFingerprint,
        time,
      })
      .execute();
    return checkpoint;
  }

  return {
    async record(event) {
      if (typeof event.action !== "string" || !isAuditAction(event.action))
        throw new ModelportError("MP_INTERNAL", `unknown audit action '${String(event.action)}'`);
      if (typeof event.actor !== "string" || event.actor === "")
        throw new ModelportError("MP_INTERNAL", "an audit entry needs an actor");
      const details = storedDetails(event);
      const detailsJson = canonicalJson(details); // also rejects values JSON cannot hold
      return attempt("appending to the audit trail", () =>
        withChainLock(database, async (db) => {
          const last = await db
            .selectFrom("audit_entries")
            .select(["seq", "hash"])
            .orderBy("seq", "desc")
            .limit(1)
            .executeTakeFirst();
          const fields = {
            seq: (last === undefined ? 0 : Number(last.seq)) + 1,
            time: new Date(clock.now()).toISOString(),
            tenantId: event.tenantId ?? null,
            actor: event.actor,
            action: event.action,
            target: event.target ?? null,
            details,
            prevHash: last?.hash ?? genesisHash,
          };
          const hash = entryHash(fields);
          await db
            .insertInto("audit_entries")
            .values({
              seq: fields.seq,
              time: fields.time,
              tenant_id: fields.tenantId,
              actor: fields.actor,
              action: fields.action,
              target: fields.target,
              details_json: detailsJson,
              prev_hash: fields.prevHash,
              hash,
            })
            .execute();
          if (checkpointEvery > 0 && fields.seq % checkpointEvery === 0) await signLatest(db, fields.seq, hash);
          return { ...fields, hash };
        }),
      );
    },

    createCheckpoint() {
      return attempt("creating an audit checkpoint", () =>
        withChainLock(database, async (db) => {
          const last = await db
            .selectFrom("audit_entries")
            .select(["seq", "hash"])
            .orderBy("seq", "desc")
            .limit(1)
            .executeTakeFirst();
          if (last === undefined) return undefined;
          if (getSigner() === undefined)
            throw new ModelportError(
              "MP_CONFIG_INVALID",
              "audit checkpoints need a signing key (pass signer or dataDir)",
            );
          return signLatest(db, Number(last.seq), last.hash);
        }),
      );
    },

    list: (filter) => listAuditEntries(database, filter),

    verify(verifyOptions) {
      const own = getSigner()?.publicKey;
      const trustedKeys = [...(own === undefined ? [] : [own]), ...(verifyOptions?.trustedKeys ?? [])];
      return verifyAuditChain(database, { trustedKeys });
    },

    hmacOf: (value) => hmacSha256Hex(hmacKey, value),
  };
}

function toCheckpoint(row: {
  seq: number;
  hash: string;
  signature: string;
  key_fingerprint: string;
  time: string;
}): AuditCheckpoint {
  return {
    seq: Number(row.seq),
    hash: row.hash,
    signature: row.signature,
    keyFingerprint: row.key_fingerprint,
    time: row.time,
  };
}
