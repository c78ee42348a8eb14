import type { TenantService } from "../commerce/tenant-service.js";
import type { Settings, StorageFlags } from "../config/settings.js";
import { ModelportError } from "../core/errors.js";
import type { Storage } from "../core/storage.js";
import type { DatabaseHandle } from "../storage/database.js";
import { UsageError } from "./output.js";

/** What an offline command gets: storage opened exactly as `serve` opens it (same flags and environment). */
export interface StorageContext {
  settings: Settings;
  storage: Storage;
  handle: DatabaseHandle;
  masterKey: Buffer;
}

/**
 * Opens storage for the duration of `run`, then closes it. Modules load on first use so `--help`
 * and unrelated commands stay fast.
 */
export async function withStorage<T>(flags: StorageFlags, run: (context: StorageContext) => Promise<T>): Promise<T> {
  const { resolveSettings } = await import("../config/settings.js");
  const { openCheckedStorage } = await import("../server/open-storage.js");
  const settings = resolveSettings(flags, process.env);
  const { storage, handle, masterKey } = await openCheckedStorage(settings);
  try {
    return await run({ settings, storage, handle, masterKey });
  } finally {
    await storage.close();
  }
}

/** `--tenant` (name or id); without it: the tenant named `default`, or the only tenant. */
export async function resolveTenant(storage: Storage, name: string | undefined): Promise<string> {
  if (name !== undefined) {
    const tenant = (await storage.tenants.getByName(name)) ?? (await storage.tenants.getById(name));
    if (tenant === undefined) throw new ModelportError("MP_NOT_FOUND", `no tenant '${name}'`, { param: "tenant" });
    return tenant.id;
  }
  const named = await storage.tenants.getByName("default");
  if (named !== undefined) return named.id;
  const all = await storage.tenants.list();
  if (all.length === 1) return (all[0] as { id: string }).id;
  throw new UsageError(
    all.length === 0
      ? "no tenant exists yet: create one with `modelport tenants create default`"
      : "several tenants exist: pass --tenant NAME",
  );
}

export interface TenantContext extends StorageContext {
  dataDir: string;
  tenantId: string;
}

/** Storage plus the tenant a command acts for (`--tenant`, see resolveTenant). */
export function withTenantContext<T>(
  flags: StorageFlags & { tenant?: string },
  run: (context: TenantContext) => Promise<T>,
): Promise<T> {
  return withStorage(flags, async (context) =>
    run({
      ...context,
      dataDir: context.settings.dataDir,
      tenantId: await resolveTenant(context.storage, flags.tenant),
    }),
  );
}

/** Storage plus the tenant service; the CLI acts as the operator, on the audit trail like any admin call. */
export function withTenantService<T>(
  flags: StorageFlags,
  run: (context: { tenants: TenantService; storage: Storage }) => Promise<T>,
): Promise<T> {
  return withStorage(flags, async ({ settings, storage, handle, masterKey }) => {
    const { deriveKey } = await import("../server/master-key.js");
    const { createTenantService } = await import("../commerce/tenant-service.js");
    const { systemClock } = await import("../core/clock.js");
    const { createAuditLog } = await import("../privacy/audit/audit-log.js");
    const audit = createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir, clock: systemClock });
    const tenants = createTenantService({
      storage,
      hashingKey: deriveKey(masterKey, "api-key-hashing"),
      clock: systemClock,
      audit: { record: (event) => audit.record(event as Parameters<typeof audit.record>[0]) },
      onAuditError: (error) =>
        process.stderr.write(`modelport: warning: audit trail write failed: ${(error as Error).message}\n`),
    });
    return run({ tenants, storage });
  });
}
