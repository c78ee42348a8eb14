import type { Command } from "commander";
import { printJson, printTable } from "../output.js";
import { withTenantService } from "../storage-context.js";

interface StorageOptions {
  json?: boolean;
  config?: string;
  dataDir?: string;
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("Create, list and revoke tenant API keys");
  keys
    .command("create")
    .description("Create an API key (shown only once)")
    .requiredOption("--tenant <name>", "tenant name or id")
    .option("--name <label>", "a label for people")
    .option("--expires <iso>", "expiry time, ISO-8601")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: StorageOptions & { tenant: string; name?: string; expires?: string }) => {
      const created = await withTenantService(flags, ({ tenants }) =>
        tenants.createKey(flags.tenant, { name: flags.name, expiresAt: flags.expires }),
      );
      const shown = {
        id: created.record.id,
        key: created.key,
        prefix: created.record.prefix,
        tenant: created.tenant.name,
      };
      if (flags.json) printJson(shown);
      else
        process.stdout.write(
          `created key ${shown.id} for tenant ${shown.tenant}\n${shown.key}\n(store it now: it cannot be shown again)\n`,
        );
    });
  keys
    .command("list")
    .description("List a tenant's keys (prefixes only)")
    .requiredOption("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: StorageOptions & { tenant: string }) => {
      const list = await withTenantService(flags, ({ tenants }) => tenants.listKeys(flags.tenant));
      if (flags.json) printJson(list);
      else
        printTable(list as unknown as Record<string, unknown>[], [
          "id",
          "prefix",
          "name",
          "createdAt",
          "lastUsedAt",
          "revokedAt",
        ]);
    });
  keys
    .command("revoke <id>")
    .description("Revoke a key; requests with it fail from now on")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (id: string, flags: StorageOptions) => {
      const revoked = await withTenantService(flags, ({ tenants }) => tenants.revokeKey(id));
      if (flags.json) printJson(revoked);
      else process.stdout.write(`revoked key ${revoked.id} (${revoked.prefix}) at ${revoked.revokedAt}\n`);
    });
}
