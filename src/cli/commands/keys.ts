import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parseDecimalMicros } from "../../commerce/money/money.js";
import { operator } from "../../commerce/rbac.js";
import type { Role } from "../../core/storage.js";
import { printJson, printTable } from "../output.js";
import { withTenantService } from "../storage-context.js";

/** A non-negative integer flag value; anything else is a usage error (exit 2). */
export function parseCount(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number))
    throw new InvalidArgumentError("expected a non-negative integer");
  return number;
}

/**
 * `--budget-usd`: a decimal amount of USD as integer micros, exactly (parseDecimalMicros);
 * negative, not finite, malformed or finer than a micro is a usage error (exit 2) naming the flag.
 */
export function parseBudgetUsd(value: string): number {
  try {
    return parseDecimalMicros(value, { field: "--budget-usd" });
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--budget-usd: /, ""));
  }
}

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
    .option("--rpm <n>", "requests per minute for this key", parseCount)
    .option("--tpm <n>", "tokens per minute for this key", parseCount)
    .option("--concurrency <n>", "requests in flight at once for this key", parseCount)
    .option("--budget-usd <amount>", "monthly budget for this key in USD, e.g. 25 or 12.50", parseBudgetUsd)
    .option(
      "--admin-role <role>",
      "also allow the admin API, acting with this role (owner|admin|developer|billing|viewer)",
    )
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(
      async (
        flags: StorageOptions & {
          tenant: string;
          name?: string;
          expires?: string;
          rpm?: number;
          tpm?: number;
          concurrency?: number;
          budgetUsd?: number;
          adminRole?: string;
        },
      ) => {
        const created = await withTenantService(flags, ({ tenants }) =>
          tenants.createKey(operator, flags.tenant, {
            name: flags.name,
            expiresAt: flags.expires,
            limits: {
              ...(flags.rpm !== undefined ? { requestsPerMinute: flags.rpm } : {}),
              ...(flags.tpm !== undefined ? { tokensPerMinute: flags.tpm } : {}),
              ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
              ...(flags.budgetUsd !== undefined ? { monthlyBudgetMicros: flags.budgetUsd } : {}),
            },
            ...(flags.adminRole ? { scopes: ["inference", "admin"], role: flags.adminRole as Role } : {}),
          }),
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
      },
    );
  keys
    .command("list")
    .description("List a tenant's keys (prefixes only)")
    .requiredOption("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: StorageOptions & { tenant: string }) => {
      const list = await withTenantService(flags, ({ tenants }) => tenants.listKeys(operator, flags.tenant));
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
    .command("rotate <id>")
    .description("Issue a replacement key; the old one keeps working for --overlap seconds")
    .option("--overlap <seconds>", "how long the old key keeps working", parseCount, 3600)
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (id: string, flags: StorageOptions & { overlap: number }) => {
      const rotated = await withTenantService(flags, ({ tenants }) => tenants.rotateKey(operator, id, flags.overlap));
      const shown = {
        id: rotated.record.id,
        key: rotated.key,
        prefix: rotated.record.prefix,
        tenant: rotated.tenant.name,
        previousKeyExpiresAt: rotated.previousKeyExpiresAt,
      };
      if (flags.json) printJson(shown);
      else
        process.stdout.write(
          `new key ${shown.id}\n${shown.key}\n(store it now; the old key works until ${shown.previousKeyExpiresAt})\n`,
        );
    });
  keys
    .command("revoke <id>")
    .description("Revoke a key; requests with it fail from now on")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (id: string, flags: StorageOptions) => {
      const revoked = await withTenantService(flags, ({ tenants }) => tenants.revokeKey(operator, id));
      if (flags.json) printJson(revoked);
      else process.stdout.write(`revoked key ${revoked.id} (${revoked.prefix}) at ${revoked.revokedAt}\n`);
    });
}
