import type { Selectable } from "kysely";
import { ModelportError } from "../../core/errors.js";
import { randomId } from "../../core/ids.js";
import type { DatabaseHandle } from "../../storage/database-handle.js";
import type { PriceVersionsTable, TenantPlansTable } from "../../storage/schema.js";
import { integerFromDatabase } from "../money/database-integer.js";
import { parseCurrency } from "./parse-prices.js";
import { validatePlanTerms } from "./plan-math.js";
import type { PriceSchedule, PriceSource, PriceVersion, TenantPlan } from "./price-types.js";

export interface NewPriceVersion extends PriceSchedule {
  endpoint: string;
  target?: string | null;
  tenantId?: string | null;
  currency?: string;
  effectiveFrom: string;
  source?: PriceSource;
}

export interface NewTenantPlan {
  tenantId: string;
  name: string;
  includedMicros: number;
  adjustmentBps: number;
  effectiveFrom: string;
}

export interface PriceRepository {
  /** Adds an immutable version; versions are never updated or deleted. */
  addPriceVersion(version: NewPriceVersion): Promise<PriceVersion>;
  /** Every version, oldest `effectiveFrom` first (optionally one endpoint's). */
  listPriceVersions(filter?: { endpoint?: string }): Promise<PriceVersion[]>;
  getPriceVersion(id: string): Promise<PriceVersion | undefined>;
  addPlan(plan: NewTenantPlan): Promise<TenantPlan>;
  listPlans(tenantId: string): Promise<TenantPlan[]>;
  /** The plan in effect at `at` (latest `effectiveFrom` ≤ at), if any. */
  planFor(tenantId: string, at: string): Promise<TenantPlan | undefined>;
}

function priceFromRow(row: Selectable<PriceVersionsTable>): PriceVersion {
  return {
    id: row.id,
    endpoint: row.endpoint,
    target: row.target,
    tenantId: row.tenant_id,
    currency: row.currency,
    inputPerMillionTokensMicros: integerFromDatabase(row.input_per_million_micros, "input_per_million_micros"),
    outputPerMillionTokensMicros: integerFromDatabase(row.output_per_million_micros, "output_per_million_micros"),
    perRequestMicros: integerFromDatabase(row.per_request_micros, "per_request_micros"),
    perPredictItemMicros: integerFromDatabase(row.per_predict_item_micros, "per_predict_item_micros"),
    effectiveFrom: row.effective_from,
    source: row.source as PriceSource,
    createdAt: row.created_at,
  };
}

function planFromRow(row: Selectable<TenantPlansTable>): TenantPlan {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    includedMicros: integerFromDatabase(row.included_micros, "included_micros"),
    adjustmentBps: integerFromDatabase(row.adjustment_bps, "adjustment_bps"),
    effectiveFrom: row.effective_from,
    createdAt: row.created_at,
  };
}

/** Normalizes an ISO time to `toISOString()` form, so text comparison orders times correctly. */
export function normalizeTime(value: string, field: string): string {
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new ModelportError("MP_INVALID_REQUEST", `${field}: not an ISO-8601 time: "${value}"`, { param: field });
  }
  return new Date(parsed).toISOString();
}

function checkSchedule(schedule: PriceSchedule): void {
  for (const [name, value] of Object.entries(schedule)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ModelportError("MP_INVALID_REQUEST", `${name} must be a non-negative integer number of micros`, {
        param: name,
      });
    }
  }
}

export function createPriceRepository(handle: DatabaseHandle, options: { now?: () => number } = {}): PriceRepository {
  const { db } = handle;
  const now = options.now ?? Date.now;
  return {
    async addPriceVersion(input) {
      if (input.endpoint.trim() === "") {
        throw new ModelportError("MP_INVALID_REQUEST", "endpoint must not be empty", { param: "endpoint" });
      }
      const schedule: PriceSchedule = {
        inputPerMillionTokensMicros: input.inputPerMillionTokensMicros,
        outputPerMillionTokensMicros: input.outputPerMillionTokensMicros,
        perRequestMicros: input.perRequestMicros,
        perPredictItemMicros: input.perPredictItemMicros,
      };
      checkSchedule(schedule);
      const version: PriceVersion = {
        id: randomId("price"),
        endpoint: input.endpoint,
        target: input.target ?? null,
        tenantId: input.tenantId ?? null,
        currency: parseCurrency(input.currency ?? "USD", "currency"),
        ...schedule,
        effectiveFrom: normalizeTime(input.effectiveFrom, "effectiveFrom"),
        source: input.source ?? "admin",
        createdAt: new Date(now()).toISOString(),
      };
      await db
        .insertInto("price_versions")
        .values({
          id: version.id,
          endpoint: version.endpoint,
          target: version.target,
          tenant_id: version.tenantId,
          currency: version.currency,
          input_per_million_micros: version.inputPerMillionTokensMicros,
          output_per_million_micros: version.outputPerMillionTokensMicros,
          per_request_micros: version.perRequestMicros,
          per_predict_item_micros: version.perPredictItemMicros,
          effective_from: version.effectiveFrom,
          source: version.source,
          created_at: version.createdAt,
        })
        .execute();
      return version;
    },

    async listPriceVersions(filter = {}) {
      let query = db.selectFrom("price_versions").selectAll();
      if (filter.endpoint !== undefined) query = query.where("endpoint", "=", filter.endpoint);
      const rows = await query.orderBy("effective_from").orderBy("created_at").orderBy("id").execute();
      return rows.map(priceFromRow);
    },

    async getPriceVersion(id) {
      const row = await db.selectFrom("price_versions").selectAll().where("id", "=", id).executeTakeFirst();
      return row === undefined ? undefined : priceFromRow(row);
    },

    async addPlan(input) {
      validatePlanTerms(input);
      if (input.name.trim() === "") {
        throw new ModelportError("MP_INVALID_REQUEST", "plan name must not be empty", { param: "name" });
      }
      const plan: TenantPlan = {
        id: randomId("plan"),
        tenantId: input.tenantId,
        name: input.name,
        includedMicros: input.includedMicros,
        adjustmentBps: input.adjustmentBps,
        effectiveFrom: normalizeTime(input.effectiveFrom, "effectiveFrom"),
        createdAt: new Date(now()).toISOString(),
      };
      await db
        .insertInto("tenant_plans")
        .values({
          id: plan.id,
          tenant_id: plan.tenantId,
          name: plan.name,
          included_micros: plan.includedMicros,
          adjustment_bps: plan.adjustmentBps,
          effective_from: plan.effectiveFrom,
          created_at: plan.createdAt,
        })
        .execute();
      return plan;
    },

    async listPlans(tenantId) {
      const rows = await db
        .selectFrom("tenant_plans")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("effective_from")
        .orderBy("created_at")
        .execute();
      return rows.map(planFromRow);
    },

    async planFor(tenantId, at) {
      const row = await db
        .selectFrom("tenant_plans")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("effective_from", "<=", normalizeTime(at, "at"))
        .orderBy("effective_from", "desc")
        .orderBy("created_at", "desc")
        .limit(1)
        .executeTakeFirst();
      return row === undefined ? undefined : planFromRow(row);
    },
  };
}
