import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import type { Storage } from "../../core/storage.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import { printJson, printTable } from "../output.js";

interface AuditFlags extends StorageFlags {
  json?: boolean;
}

/**
 * Opens the database the way `serve` does (same flags and environment), without the master key:
 * reading and verifying the trail needs neither the key nor a write. Modules load on first use
 * so `--help` stays fast.
 */
async function withAuditDatabase<T>(
  flags: StorageFlags,
  run: (context: { database: DatabaseHandle; storage: Storage; dataDir: string }) => Promise<T>,
): Promise<T> {
  const { resolveSettings } = await import("../../config/settings.js");
  const { openDatabase } = await import("../../storage/database.js");
  const { createStorage } = await import("../../storage/create-storage.js");
  const settings = resolveSettings(flags, process.env);
  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const storage = createStorage(database);
  try {
    return await run({ database, storage, dataDir: settings.dataDir });
  } finally {
    await storage.close();
  }
}

function parseLimit(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 1_000)
    throw new InvalidArgumentError("expected an integer from 1 to 1000");
  return number;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `modelport audit verify` → exit 0 intact, 1 with `MP_AUDIT_BROKEN: entry N: reason`. */
export async function runAuditVerify(flags: AuditFlags & { publicKey?: string[] }): Promise<void> {
  const { readFileSync } = await import("node:fs");
  const { parsePublicKey, readAuditPublicKey } = await import("../../privacy/audit/signing-key.js");
  const { verifyAuditChain } = await import("../../privacy/audit/verify-chain.js");
  const { ModelportError } = await import("../../core/errors.js");
  const result = await withAuditDatabase(flags, async ({ database, dataDir }) => {
    const own = readAuditPublicKey(dataDir);
    const extra = (flags.publicKey ?? []).map((file) => parsePublicKey(readFileSync(file, "utf8")));
    return verifyAuditChain(database, { trustedKeys: [...(own === undefined ? [] : [own]), ...extra] });
  });
  if (flags.json)
    printJson({
      ok: result.ok,
      entries: result.entries,
      checkpoints: result.checkpoints,
      ...(result.firstBroken === undefined ? {} : { firstBroken: result.firstBroken }),
    });
  if (result.firstBroken !== undefined)
    throw new ModelportError("MP_AUDIT_BROKEN", `entry ${result.firstBroken.seq}: ${result.firstBroken.reason}`);
  if (!flags.json)
    process.stdout.write(
      `audit trail intact: ${result.entries} entries, ${result.checkpoints} signed checkpoint${result.checkpoints === 1 ? "" : "s"}\n`,
    );
}

export async function runAuditList(
  flags: AuditFlags & {
    tenant?: string;
    action?: string;
    actor?: string;
    from?: string;
    to?: string;
    limit?: number;
    cursor?: string;
  },
): Promise<void> {
  const { listAuditEntries } = await import("../../privacy/audit/list-entries.js");
  const { ModelportError } = await import("../../core/errors.js");
  const page = await withAuditDatabase(flags, async ({ database, storage }) => {
    let tenantId: string | undefined;
    if (flags.tenant !== undefined) {
      const tenant = (await storage.tenants.getByName(flags.tenant)) ?? (await storage.tenants.getById(flags.tenant));
      // A deleted tenant's id still filters its entries: audit rows outlive tenants.
      tenantId = tenant?.id ?? (flags.tenant.startsWith("ten_") ? flags.tenant : undefined);
      if (tenantId === undefined) throw new ModelportError("MP_NOT_FOUND", `no tenant named '${flags.tenant}'`);
    }
    return listAuditEntries(database, {
      tenantId,
      action: flags.action,
      actor: flags.actor,
      from: flags.from,
      to: flags.to,
      limit: flags.limit ?? 100,
      cursor: flags.cursor,
    });
  });
  if (flags.json) {
    printJson(page);
    return;
  }
  printTable(
    page.entries.map((entry) => ({
      ...entry,
      tenantId: entry.tenantId ?? "-",
      details: JSON.stringify(entry.details),
    })),
    ["seq", "time", "tenantId", "actor", "action", "target", "details"],
  );
  if (page.nextCursor !== undefined) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
}

/** Signs the current end of the chain with `<data-dir>/audit-signing.key` (created if missing). */
export async function runAuditCheckpoint(flags: AuditFlags): Promise<void> {
  const { loadOrCreateAuditSigner } = await import("../../privacy/audit/signing-key.js");
  const { createAuditLog } = await import("../../privacy/audit/audit-log.js");
  const { loadMasterKey } = await import("../../server/master-key.js");
  const { resolveSettings } = await import("../../config/settings.js");
  const settings = resolveSettings(flags, process.env);
  const checkpoint = await withAuditDatabase(flags, ({ database, dataDir }) =>
    createAuditLog({
      database,
      masterKey: loadMasterKey(settings.masterKey, dataDir),
      signer: loadOrCreateAuditSigner(dataDir),
    }).createCheckpoint(),
  );
  if (flags.json) printJson(checkpoint ?? null);
  else if (checkpoint === undefined) process.stdout.write("the audit trail is empty: nothing to sign\n");
  else
    process.stdout.write(
      `signed checkpoint at entry ${checkpoint.seq} (${checkpoint.hash}) with key ${checkpoint.keyFingerprint.slice(0, 16)}\n`,
    );
}

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("Verify and read the tamper-evident audit trail");
  audit
    .command("verify")
    .description("Check every entry's hash, the chain links and the signed checkpoints (exit 1 when broken)")
    .option("--json", "print JSON: {ok, entries, checkpoints, firstBroken?}")
    .option("--public-key <file>", "also trust checkpoints signed by this Ed25519 key (PEM; repeatable)", collect)
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action((flags: AuditFlags & { publicKey?: string[] }) => runAuditVerify(flags));
  audit
    .command("list")
    .description("List audit entries, newest first")
    .option("--tenant <name>", "tenant name or id")
    .option("--action <action>", "e.g. api-key-revoked")
    .option("--actor <actor>", "e.g. admin")
    .option("--from <iso>", "from this time (inclusive)")
    .option("--to <iso>", "until this time (exclusive)")
    .option("--limit <n>", "entries per page (1-1000, default 100)", parseLimit)
    .option("--cursor <cursor>", "continue after a previous page")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action((flags) => runAuditList(flags));
  audit
    .command("checkpoint")
    .description("Sign the current end of the trail now (Ed25519, key in the data directory)")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action((flags: AuditFlags) => runAuditCheckpoint(flags));
}
