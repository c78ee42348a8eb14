import type { Command } from "commander";
import { printJson, UsageError } from "../output.js";
import { withTenantContext } from "../storage-context.js";

interface Flags {
  json?: boolean;
  config?: string;
  dataDir?: string;
  tenant?: string;
}

/** The columns Modelport encrypts at rest: what `rewrap` re-seals under the newest key. */
const encryptedColumns = [
  {
    table: "request_log",
    idColumn: "request_id",
    tenantColumn: "tenant_id",
    columns: ["request_payload", "response_payload"],
  },
] as const;

async function withCipher<T>(
  flags: Flags,
  run: (context: {
    tenantId: string;
    cipher: import("../../privacy/crypto/index.js").FieldCipher;
    handle: import("../../storage/database.js").DatabaseHandle;
    audit: import("../../privacy/audit/index.js").AuditLog;
  }) => Promise<T>,
): Promise<T> {
  const { createFieldCipher } = await import("../../privacy/crypto/index.js");
  const { createAuditLog } = await import("../../privacy/audit/index.js");
  return withTenantContext(flags, async ({ handle, tenantId, masterKey, dataDir }) => {
    const audit = createAuditLog({ database: handle, masterKey, dataDir });
    const cipher = createFieldCipher({ database: handle, masterKey, audit });
    return run({ tenantId, cipher, handle, audit });
  });
}

const common = (command: Command) =>
  command
    .option("--tenant <name>", "tenant name or id (default: the tenant named default, or the only one)")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory");

/** `modelport data-keys rotate|rewrap|destroy`: the tenant data keys behind encryption at rest. */
export function registerDataKeys(program: Command): void {
  const keys = program.command("data-keys").description("Rotate, re-wrap or destroy a tenant's data-encryption keys");
  common(
    keys.command("rotate").description("Start a new key version; new writes use it, old data still decrypts"),
  ).action(async (flags: Flags) => {
    const version = await withCipher(flags, ({ tenantId, cipher }) =>
      cipher.rotateTenantKey(tenantId, { actor: "admin" }),
    );
    if (flags.json) printJson({ version });
    else process.stdout.write(`now writing with key version ${version}\n`);
  });
  common(keys.command("rewrap").description("Re-encrypt stored data under the tenant's newest key version")).action(
    async (flags: Flags) => {
      const { rewrapStoredData } = await import("../../privacy/crypto/index.js");
      const report = await withCipher(flags, ({ cipher, handle, audit }) =>
        rewrapStoredData(handle, cipher, encryptedColumns, { audit, actor: "admin" }),
      );
      if (flags.json) printJson(report);
      else
        process.stdout.write(
          `scanned ${report.total.scanned}, re-encrypted ${report.total.rewrapped}, already current ${report.total.alreadyCurrent}\n`,
        );
    },
  );
  common(
    keys
      .command("destroy")
      .description("Destroy every key of the tenant: its encrypted data becomes unreadable (crypto-shredding)")
      .option("--yes", "confirm: this cannot be undone"),
  ).action(async (flags: Flags & { yes?: boolean }) => {
    if (!flags.yes) throw new UsageError("destroying keys cannot be undone: pass --yes to confirm");
    const result = await withCipher(flags, ({ tenantId, cipher }) =>
      cipher.destroyTenantKeys(tenantId, { actor: "admin" }),
    );
    if (flags.json) printJson(result);
    else process.stdout.write(`destroyed ${result.destroyed} key version(s)\n`);
  });
}
