import { digestsEqual, hashSecret } from "../commerce/api-key-format.js";
import { randomId } from "../core/ids.js";
import type { Storage } from "../core/storage.js";

const settingKey = "admin_token_hash";

export interface AdminTokenCheck {
  verify(presented: string | undefined): boolean;
}

/**
 * The admin bearer token. MODELPORT_ADMIN_TOKEN wins when set. Otherwise the first start generates
 * one, stores only its keyed hash, and returns it so the caller can print it once; later starts
 * (and other nodes) verify against the stored hash.
 */
export async function bootstrapAdminToken(options: {
  storage: Storage;
  hashingKey: Buffer;
  configuredToken: string | undefined;
}): Promise<{ check: AdminTokenCheck; generatedToken: string | undefined }> {
  const { storage, hashingKey, configuredToken } = options;
  let expectedHash: string;
  let generatedToken: string | undefined;
  if (configuredToken) {
    expectedHash = hashSecret(hashingKey, configuredToken);
  } else {
    const stored = await storage.settings.get(settingKey);
    if (stored) {
      expectedHash = stored;
    } else {
      const token = randomId("mpadmin", 40);
      const candidate = hashSecret(hashingKey, token);
      if (await storage.settings.setIfAbsent(settingKey, candidate)) {
        expectedHash = candidate;
        generatedToken = token;
      } else {
        // Another process bootstrapped first; its token is the one.
        expectedHash = (await storage.settings.get(settingKey)) as string;
      }
    }
  }
  return {
    generatedToken,
    check: {
      verify(presented) {
        if (!presented) return false;
        return digestsEqual(hashSecret(hashingKey, presented), expectedHash);
      },
    },
  };
}
