export { syncConfigPrices } from "./config-prices.js";
export { type ChargeBreakdown, chargeFor, type UsageQuantities } from "./cost.js";
export { type DecimalPrices, parseCurrency, parsePriceSchedule } from "./parse-prices.js";
export { type PlanInput, parsePlanInput } from "./plan-input.js";
export { applyPlan, type PlanApplication, type PlanTerms, validatePlanTerms } from "./plan-math.js";
export { firstInvoicePeriod, type TenantPlanView, viewPlan } from "./plan-view.js";
export {
  createPriceRepository,
  type NewPriceVersion,
  type NewTenantPlan,
  type PriceRepository,
} from "./price-repository.js";
export { createPriceResolver, type PriceResolver } from "./price-resolver.js";
export type { PriceSchedule, PriceSource, PriceVersion, TenantPlan } from "./price-types.js";
