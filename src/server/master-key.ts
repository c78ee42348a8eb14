import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelportError } from "../core/errors.js";

/**
 * The master key is the root secret: key hashing and (with the protect work) data-key wrapping
 * derive from it. From MODELPORT_MASTER_KEY (64 hex chars or base64 of 32 bytes) or, when unset,
 * generated once into `<data-dir>/master.key` with 0600 permissions. Every node of a scale-out
 * deployment must share it (set the variable), which `assertMasterKeyMatches` checks at start-up.
 */
export function loadMasterKey(value: string | undefined, dataDir: string): Buffer {
  if (value) return decodeKey(value, "MODELPORT_MASTER_KEY");
  const path = join(dataDir, "master.key");
  if (existsSync(path)) return decodeKey(readFileSync(path, "utf8").trim(), path);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  // `wx` fails if another process created the file first; then read theirs.
  try {
    writeFileSync(path, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
    return key;
  } catch {
    return decodeKey(readFileSync(path, "utf8").trim(), path);
  }
}

function decodeKey(text: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `${source} must hold a 32-byte key as 64 hex characters or base64 (generate one with: openssl rand -hex 32)`,
    );
  return key;
}

/** A sub-key for one purpose (HKDF-SHA256), so no two uses ever share key material. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `modelport:${purpose}`, 32));
}

/** A public fingerprint of the master key, stored in the database to catch nodes with different keys. */
export function masterKeyFingerprint(masterKey: Buffer): string {
  return createHmac("sha256", deriveKey(masterKey, "fingerprint")).update("modelport").digest("hex").slice(0, 32);
}
