import type { TenantService } from "../commerce/tenant-service.js";
import type { StorageFlags } from "../config/settings.js";
import type { Storage } from "../core/storage.js";

/**
 * Opens storage the way `serve` does (same flags and environment) for an offline command. Modules
 * load on first use so `--help` and unrelated commands stay fast.
 */
export async function withTenantService<T>(
  flags: StorageFlags,
  run: (context: { tenants: TenantService; storage: Storage }) => Promise<T>,
): Promise<T> {
  const { resolveSettings } = await import("../config/settings.js");
  const { openCheckedStorage } = await import("../server/open-storage.js");
  const { deriveKey } = await import("../server/master-key.js");
  const { createTenantService } = await import("../commerce/tenant-service.js");
  const { systemClock } = await import("../core/clock.js");
  const { createAuditLog } = await import("../privacy/audit/audit-log.js");
  const settings = resolveSettings(flags, process.env);
  const { storage, handle, masterKey } = await openCheckedStorage(settings);
  try {
    const audit = createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir, clock: systemClock });
    const tenants = createTenantService({
      storage,
      hashingKey: deriveKey(masterKey, "api-key-hashing"),
      clock: systemClock,
      // The local CLI acts as the operator; what it changes is on the trail like any admin call.
      audit: { record: (event) => audit.record(event as Parameters<typeof audit.record>[0]) },
      onAuditError: (error) =>
        process.stderr.write(`modelport: warning: audit trail write failed: ${(error as Error).message}\n`),
    });
    return await run({ tenants, storage });
  } finally {
    await storage.close();
  }
}
