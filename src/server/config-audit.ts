import { createHash } from "node:crypto";
import type { ModelportConfig } from "../config/schema.js";
import type { AuditRecorder } from "../core/audit.js";
import type { Storage } from "../core/storage.js";

const settingKey = "config_fingerprint";

/**
 * Records a `config-changed` audit entry when a node starts with a configuration that differs
 * from the last one seen (by SHA-256 of its canonical JSON; the config itself, which may hold
 * upstream keys, is not stored).
 */
export async function auditConfigChange(options: {
  storage: Storage;
  audit: AuditRecorder;
  config: Readonly<ModelportConfig>;
  source: string;
}): Promise<boolean> {
  const fingerprint = createHash("sha256").update(JSON.stringify(options.config)).digest("hex");
  const previous = await options.storage.settings.get(settingKey);
  if (previous === fingerprint) return false;
  await options.storage.settings.set(settingKey, fingerprint);
  await options.audit.record({
    action: "config-changed",
    actor: "system",
    target: `config:${options.source}`,
    details: {
      fingerprint,
      previous: previous ?? null,
      endpoints: Object.keys(options.config.endpoints).length,
      providers: Object.keys(options.config.providers).length,
    },
  });
  return true;
}
