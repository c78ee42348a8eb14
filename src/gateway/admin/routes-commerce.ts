import { z } from "zod";
import { renderInvoiceCsv } from "../../commerce/invoices/invoice-render.js";
import type { InvoiceService } from "../../commerce/invoices/invoice-service.js";
import {
  parseUsageExportFormat,
  usageExportMediaTypes,
  usageExportStream,
} from "../../commerce/ledger/usage-export.js";
import type { UsageQueries } from "../../commerce/ledger/usage-query.js";
import { parsePlanInput } from "../../commerce/pricing/plan-input.js";
import { viewPlan } from "../../commerce/pricing/plan-view.js";
import type { PriceRepository } from "../../commerce/pricing/price-repository.js";
import { type Actor, authorize } from "../../commerce/rbac.js";
import type { TenantService } from "../../commerce/tenant-service.js";
import type { AuditRecorder } from "../../core/audit.js";
import { ModelportError } from "../../core/errors.js";
import { optionalTime } from "./query-params.js";
import { type AdminRoute, adminRoute } from "./route-table.js";

/** Details of an export for the audit trail. */
export type ExportDetails = Record<string, string | number | boolean | null>;

export interface CommerceAdminDeps {
  tenants: Pick<TenantService, "resolveTenant">;
  prices: Pick<PriceRepository, "addPlan" | "listPlans" | "planFor">;
  usage: Pick<UsageQueries, "usage" | "exportRecords">;
  invoices: Pick<InvoiceService, "getInvoice">;
  /**
   * Writes a `data-exported` audit entry. Awaited before an export starts: an export that cannot
   * be audited is refused (see `exportAuditRecorder`).
   */
  recordExport(actor: Actor, tenantId: string, details: ExportDetails): Promise<void>;
  /** Writes a `plan-changed` audit entry; awaited, so a plan that cannot be audited is not reported as set. */
  recordPlanChange?: ((actor: Actor, tenantId: string, plan: ExportDetails) => Promise<void>) | undefined;
  /** Moves usage still in the ledger's buffer into the database, so reads include every answered request. */
  flushLedger?: (() => Promise<void>) | undefined;
  now?: (() => number) | undefined;
}

/** `recordExport` over the audit trail port: actor `admin` (operator) or `key:<id>`, as tenant-service names them. */
export function exportAuditRecorder(audit: AuditRecorder): CommerceAdminDeps["recordExport"] {
  return async (actor, tenantId, details) => {
    await audit.record({
      action: "data-exported",
      actor: actor.kind === "operator" ? "admin" : `key:${actor.keyId}`,
      tenantId,
      target: "usage-records",
      details,
    });
  };
}

/** A plan's terms as flat audit details (no nested objects on the trail). */
function auditablePlan(plan: ReturnType<typeof viewPlan>): ExportDetails {
  return Object.fromEntries(
    Object.entries(plan).map(([key, value]) => [
      key,
      value === null || ["string", "number", "boolean"].includes(typeof value)
        ? (value as string | number | boolean | null)
        : JSON.stringify(value),
    ]),
  );
}

/** `recordPlanChange` over the audit trail port. */
export function planAuditRecorder(audit: AuditRecorder): NonNullable<CommerceAdminDeps["recordPlanChange"]> {
  return async (actor, tenantId, plan) => {
    await audit.record({
      action: "plan-changed",
      actor: actor.kind === "operator" ? "admin" : `key:${actor.keyId}`,
      tenantId,
      target: typeof plan.id === "string" ? plan.id : "plan",
      details: plan,
    });
  };
}

/**
 * The plan body. Amounts and percentages are decimals (a JSON number or a string such as
 * "10.50"), checked by parsePlanInput so errors name the field; `unknown` here because JSON's
 * 1e999 arrives as Infinity and must be refused as not finite, not as a type mismatch.
 */
const decimal = (description: string) =>
  z
    .unknown()
    .optional()
    .meta({ type: ["number", "string"], description });
const integer = (description: string) => z.unknown().optional().meta({ type: "integer", description });
export const setPlanBody = z.strictObject({
  name: z.string().min(1).max(128).describe("The plan's name, shown on invoices."),
  effectiveFrom: z
    .string()
    .optional()
    .describe(
      "ISO-8601 with a UTC offset (default: now). Invoices use the plan in effect at the start of their month.",
    ),
  includedUsd: decimal("Usage per month that is free, in USD (at most 6 decimals)."),
  includedMicros: integer("The same in micro-USD; give one of includedUsd and includedMicros."),
  discountPercent: decimal("Discount on the usage left after the included amount, 0–100 (at most 2 decimals)."),
  markupPercent: decimal("Markup on the usage left after the included amount, 0–1000 (at most 2 decimals)."),
  adjustmentBps: integer(
    "The same in basis points: −10000 (100% discount) … 100000; give one of discountPercent, markupPercent, adjustmentBps.",
  ),
});

const param = (params: Record<string, string>, name: string) => params[name] ?? "";

function monthStart(now: number): string {
  const at = new Date(now);
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)).toISOString();
}

function currentPeriod(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** Plans, usage, the raw-record export and invoices: the admin routes of billing (see route-table.ts). */
export function commerceAdminRoutes(deps: CommerceAdminDeps): AdminRoute[] {
  const now = deps.now ?? Date.now;
  const { tenants } = deps;

  /** The tenant in the path, for an actor that may use `permission` on it (another tenant's: 404). */
  async function tenantFor(actor: Actor, params: Record<string, string>, permission: Parameters<typeof authorize>[1]) {
    const tenant = await tenants.resolveTenant(actor, param(params, "tenant"));
    authorize(actor, permission, tenant.id);
    return tenant;
  }

  /** from/to of a usage read: default this month so far; `to` exclusive. */
  function range(query: Record<string, string>): { from: string; to: string } {
    const from = optionalTime(query, "from") ?? monthStart(now());
    const to = optionalTime(query, "to") ?? new Date(now() + 1).toISOString();
    if (Date.parse(to) < Date.parse(from))
      throw new ModelportError("MP_INVALID_REQUEST", "to is before from", { param: "to" });
    return { from, to };
  }

  return [
    adminRoute({
      method: "post",
      path: "/tenants/{tenant}/plans",
      summary:
        "Set the tenant's plan from a time on (included usage, discount or markup); plans are versioned, never edited (operator only)",
      permission: "tenant:plan",
      body: setPlanBody,
      status: 201,
      handler: async ({ actor, params, body }) => {
        const tenant = await tenantFor(actor, params, "tenant:plan");
        const plan = viewPlan(await deps.prices.addPlan(parsePlanInput(tenant.id, body, now())));
        await deps.recordPlanChange?.(actor, tenant.id, auditablePlan(plan));
        return plan;
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/plans",
      summary: "The tenant's plans, oldest first, and the one in effect now",
      permission: "invoices:read",
      handler: async ({ actor, params }) => {
        const tenant = await tenantFor(actor, params, "invoices:read");
        const plans = await deps.prices.listPlans(tenant.id);
        const current = await deps.prices.planFor(tenant.id, new Date(now()).toISOString());
        return { data: plans.map(viewPlan), current: current === undefined ? null : viewPlan(current) };
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/usage",
      summary:
        "Usage totals from the ledger (query: from, to (exclusive), endpoint, key, groupBy=day); default this month",
      permission: "usage:read",
      handler: async ({ actor, params, query }) => {
        const tenant = await tenantFor(actor, params, "usage:read");
        const { from, to } = range(query);
        if (query.groupBy !== undefined && query.groupBy !== "day" && query.groupBy !== "none")
          throw new ModelportError("MP_INVALID_REQUEST", "groupBy must be day or none", { param: "groupBy" });
        await deps.flushLedger?.();
        const report = await deps.usage.usage({
          tenantId: tenant.id,
          from,
          to,
          endpoint: query.endpoint || undefined,
          keyId: query.key || undefined,
          groupBy: query.groupBy === "day" ? "day" : "none",
        });
        return { tenant: tenant.name, from, to, ...report };
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/usage/records",
      summary:
        "Export the raw usage records, oldest first, streamed (query: format=jsonl|csv|json, from, to, endpoint, key); audited as data-exported",
      permission: "usage:read",
      produces: "application/x-ndjson",
      handler: async ({ actor, params, query }) => {
        const tenant = await tenantFor(actor, params, "usage:read");
        const format = parseUsageExportFormat(query.format);
        const from = optionalTime(query, "from");
        const to = optionalTime(query, "to");
        const filter = {
          tenantId: tenant.id,
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(query.endpoint ? { endpoint: query.endpoint } : {}),
          ...(query.key ? { keyId: query.key } : {}),
        };
        await deps.recordExport(actor, tenant.id, {
          source: "admin-api",
          format,
          from: from ?? null,
          to: to ?? null,
          endpoint: query.endpoint || null,
          key: query.key || null,
        });
        await deps.flushLedger?.();
        const stamp = (from ?? "all").slice(0, 10);
        return new Response(usageExportStream(deps.usage, filter, format), {
          status: 200,
          headers: {
            "content-type": usageExportMediaTypes[format],
            "content-disposition": `attachment; filename="usage-${tenant.name}-${stamp}.${format}"`,
            "cache-control": "no-store",
          },
        });
      },
    }),
    adminRoute({
      method: "get",
      path: "/tenants/{tenant}/invoice",
      summary: "The tenant's invoice for a month (query: period=YYYY-MM, default this month; format=json|csv)",
      permission: "invoices:read",
      handler: async ({ actor, params, query }) => {
        const tenant = await tenantFor(actor, params, "invoices:read");
        const format = query.format ?? "json";
        if (format !== "json" && format !== "csv")
          throw new ModelportError("MP_INVALID_REQUEST", "format must be json or csv", { param: "format" });
        await deps.flushLedger?.();
        const invoice = await deps.invoices.getInvoice(tenant.id, query.period ?? currentPeriod(now()));
        if (format === "json") return invoice;
        return new Response(renderInvoiceCsv(invoice), {
          status: 200,
          headers: { "content-type": "text/csv; charset=utf-8", "cache-control": "no-store" },
        });
      },
    }),
  ];
}
