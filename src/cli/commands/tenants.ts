import type { Command } from "commander";
import { operator } from "../../commerce/rbac.js";
import { printJson, printTable } from "../output.js";
import { withTenantService } from "../storage-context.js";

export function registerTenants(program: Command): void {
  const tenants = program.command("tenants").description("Create and list tenants");
  tenants
    .command("create <name>")
    .description("Create a tenant")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (name: string, flags: { json?: boolean; config?: string; dataDir?: string }) => {
      const tenant = await withTenantService(flags, ({ tenants: service }) => service.createTenant(operator, name));
      if (flags.json) printJson(tenant);
      else process.stdout.write(`created tenant ${tenant.name} (${tenant.id})\n`);
    });
  tenants
    .command("list")
    .description("List tenants")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: { json?: boolean; config?: string; dataDir?: string }) => {
      const list = await withTenantService(flags, ({ tenants: service }) => service.listTenants(operator));
      if (flags.json) printJson(list);
      else printTable(list as unknown as Record<string, unknown>[], ["id", "name", "createdAt"]);
    });
}
