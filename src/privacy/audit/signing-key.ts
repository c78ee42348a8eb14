import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelportError } from "../../core/errors.js";
import { canonicalJson } from "./canonical-json.js";

export const signingKeyFileName = "audit-signing.key";

/** Signs audit checkpoints with Ed25519. */
export interface AuditSigner {
  /** sha256 hex of the public key's SPKI DER encoding: what checkpoints record. */
  readonly fingerprint: string;
  readonly publicKey: KeyObject;
  /** base64 signature. */
  sign(statement: Buffer): string;
}

export function publicKeyFingerprint(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

export function createAuditSigner(privateKey: KeyObject): AuditSigner {
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new ModelportError("MP_CONFIG_INVALID", "the audit signing key must be an Ed25519 private key");
  const publicKey = createPublicKey(privateKey);
  return {
    fingerprint: publicKeyFingerprint(publicKey),
    publicKey,
    sign: (statement) => sign(null, statement, privateKey).toString("base64"),
  };
}

/**
 * `<dataDir>/audit-signing.key` (PKCS#8 PEM, mode 0600), generated on first use. Creation is
 * race-safe across processes: the key is written to a temporary file and hard-linked into
 * place, which fails if another process got there first (then its key is used), so no reader
 * ever sees a half-written file. In a multi-node deployment, give every node the same file.
 */
export function loadOrCreateAuditSigner(dataDir: string): AuditSigner {
  const path = join(dataDir, signingKeyFileName);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(temporary, pem, { mode: 0o600, flag: "wx" });
    chmodSync(temporary, 0o600);
    try {
      linkSync(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkSync(temporary);
    }
  }
  return createAuditSigner(readPrivateKey(path));
}

function readPrivateKey(path: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `cannot read the audit signing key ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** The public half of the data dir's signing key, without creating one (for verification). */
export function readAuditPublicKey(dataDir: string): KeyObject | undefined {
  const path = join(dataDir, signingKeyFileName);
  return existsSync(path) ? createPublicKey(readPrivateKey(path)) : undefined;
}

/** A public key from PEM text (SPKI public key, or a private key whose public half is taken). */
export function parsePublicKey(pem: string): KeyObject {
  return pem.includes("PRIVATE KEY") ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
}

export interface CheckpointStatement {
  seq: number;
  hash: string;
  time: string;
  keyFingerprint: string;
}

/** What a checkpoint signature covers: canonical JSON with a domain tag (never a bare hash). */
export function checkpointStatement(checkpoint: CheckpointStatement): Buffer {
  return Buffer.from(
    canonicalJson({
      domain: "modelport-audit-checkpoint-v1",
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      time: checkpoint.time,
      keyFingerprint: checkpoint.keyFingerprint,
    }),
    "utf8",
  );
}

export function verifyCheckpointSignature(
  publicKey: KeyObject,
  checkpoint: CheckpointStatement,
  signature: string,
): boolean {
  try {
    return verify(null, checkpointStatement(checkpoint), publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
