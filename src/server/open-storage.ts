import type { Settings } from "../config/settings.js";
import { ModelportError } from "../core/errors.js";
import type { Storage } from "../core/storage.js";
import { openStorage } from "../storage/database.js";
import { loadMasterKey, masterKeyFingerprint } from "./master-key.js";

const fingerprintSetting = "master_key_fingerprint";

/** Opens storage with the master key checked against the one the database was set up with. */
export async function openCheckedStorage(settings: Settings): Promise<{ storage: Storage; masterKey: Buffer }> {
  const masterKey = loadMasterKey(settings.masterKey, settings.dataDir);
  const storage = await openStorage({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
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
  return { storage, masterKey };
}
