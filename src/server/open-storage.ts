import type { Settings } from "../config/settings.js";
import { ModelportError } from "../core/errors.js";
import type { Storage } from "../core/storage.js";
import { createStorage } from "../storage/create-storage.js";
import { type DatabaseHandle, openDatabase } from "../storage/database.js";
import { loadMasterKey, masterKeyFingerprint } from "./master-key.js";

const fingerprintSetting = "master_key_fingerprint";

/**
 * Opens the database (one handle per process, shared by the Storage port and the modules that
 * need kysely directly: ledger, request log, audit) with the master key checked against the one
 * the database was set up with.
 */
export async function openCheckedStorage(
  settings: Settings,
): Promise<{ storage: Storage; handle: DatabaseHandle; masterKey: Buffer }> {
  const masterKey = loadMasterKey(settings.masterKey, settings.dataDir);
  const handle = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const storage = createStorage(handle);
  const fingerprint = masterKeyFingerprint(masterKey);
  await storage.settings.setIfAbsent(fingerprintSetting, fingerprint);
  const stored = await storage.settings.get(fingerprintSetting);
  if (stored !== fingerprint) {
    await storage.close();
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      "this database was set up with a different master key: set MODELPORT_MASTER_KEY to the key every node shares",
    );
  }
  return { storage, handle, masterKey };
}
