import type { Command } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import { printJson, printTable } from "../output.js";
import { withTenantContext } from "../storage-context.js";

interface PlanFlags extends StorageFlags {
  tenant: string;
  json?: boolean;
}

const columns = ["id", "name", "effectiveFrom", "firstInvoicePeriod", "includedMicros", "adjustmentBps", "createdAt"];

/** `modelport plans set|list`: a tenant's plans (included usage, discount or markup), versioned like prices. */
export function registerPlans(program: Command): void {
  const plans = program
    .command("plans")
    .description("Per-tenant plans: included usage per month, then a discount or markup (applied on invoices)");
  plans
    .command("set")
    .description(
      "Give a tenant a plan from a time on (a new version; earlier ones stay). Invoices use the plan in effect at the start of their month.",
    )
    .requiredOption("--tenant <name>", "tenant name or id")
    .requiredOption("--name <plan>", "the plan's name, shown on invoices")
    .option("--effective-from <iso>", "ISO-8601 with a UTC offset, e.g. 2026-12-01T00:00:00Z (default: now)")
    .option("--included-usd <amount>", "usage per month that is free, in USD (at most 6 decimals)")
    .option("--discount-percent <p>", "discount on the rest, 0-100 (at most 2 decimals)")
    .option("--markup-percent <p>", "markup on the rest, 0-1000 (at most 2 decimals)")
    .option("--adjustment-bps <n>", "the discount (negative) or markup in basis points instead")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(
      async (
        flags: PlanFlags & {
          name: string;
          effectiveFrom?: string;
          includedUsd?: string;
          discountPercent?: string;
          markupPercent?: string;
          adjustmentBps?: string;
        },
      ) => {
        const { parsePlanInput } = await import("../../commerce/pricing/plan-input.js");
        const { viewPlan } = await import("../../commerce/pricing/plan-view.js");
        const { createPriceRepository } = await import("../../commerce/pricing/index.js");
        const plan = await withTenantContext(flags, async ({ tenantId, handle, masterKey, settings }) => {
          // The same checks and messages as the admin API (MP_INVALID_REQUEST naming the field).
          const input = parsePlanInput(
            tenantId,
            {
              name: flags.name,
              effectiveFrom: flags.effectiveFrom,
              includedUsd: flags.includedUsd,
              discountPercent: flags.discountPercent,
              markupPercent: flags.markupPercent,
              adjustmentBps: flags.adjustmentBps,
            },
            Date.now(),
          );
          const created = viewPlan(await createPriceRepository(handle).addPlan(input));
          const { createAuditLog } = await import("../../privacy/audit/audit-log.js");
          const { systemClock } = await import("../../core/clock.js");
          await createAuditLog({ database: handle, masterKey, dataDir: settings.dataDir, clock: systemClock }).record({
            action: "plan-changed",
            actor: "cli",
            tenantId,
            target: created.id,
            details: { name: created.name, effectiveFrom: created.effectiveFrom, terms: JSON.stringify(created) },
          });
          return created;
        });
        if (flags.json) printJson(plan);
        else
          process.stdout.write(
            `plan ${plan.name} (${plan.id}) effective from ${plan.effectiveFrom}; first invoice it changes: ${plan.firstInvoicePeriod}\n`,
          );
      },
    );
  plans
    .command("list")
    .description("A tenant's plans, oldest first")
    .requiredOption("--tenant <name>", "tenant name or id")
    .option("--json", "print JSON")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory")
    .action(async (flags: PlanFlags) => {
      const { viewPlan } = await import("../../commerce/pricing/plan-view.js");
      const { createPriceRepository } = await import("../../commerce/pricing/index.js");
      const list = await withTenantContext(flags, async ({ tenantId, handle }) =>
        (await createPriceRepository(handle).listPlans(tenantId)).map(viewPlan),
      );
      if (flags.json) printJson(list);
      else printTable(list as unknown as Record<string, unknown>[], columns);
    });
}
