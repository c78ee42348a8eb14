import { addMicros, type Micros, multiplyMicros, perMillionCost } from "../money/money.js";
import type { PriceSchedule } from "./price-types.js";

export interface UsageQuantities {
  inputTokens: number;
  outputTokens: number;
  /** Predict items (the batch dimension); 0 for chat and embeddings. */
  items: number;
}

export interface ChargeBreakdown {
  inputCostMicros: Micros;
  outputCostMicros: Micros;
  requestCostMicros: Micros;
  itemCostMicros: Micros;
  /** The sum of the four parts: what the ledger record charges. */
  costMicros: Micros;
}

/**
 * The charge for one request. The rounding rule, applied once per request and dimension:
 * input and output token charges are `tokens × price-per-million / 1e6`, each rounded half up to
 * the micro; per-request and per-item prices are whole micros, so those parts are exact. The
 * ledger stores the parts it cannot recompute exactly (input and output charges) next to the
 * total, so an invoice line is the sum of what its records were charged and the invoice total
 * equals the ledger sum to the micro, by construction.
 */
export function chargeFor(prices: PriceSchedule, quantities: UsageQuantities): ChargeBreakdown {
  const inputCostMicros = perMillionCost(quantities.inputTokens, prices.inputPerMillionTokensMicros, "input cost");
  const outputCostMicros = perMillionCost(quantities.outputTokens, prices.outputPerMillionTokensMicros, "output cost");
  const requestCostMicros = prices.perRequestMicros;
  const itemCostMicros = multiplyMicros(quantities.items, prices.perPredictItemMicros, "item cost");
  const costMicros = addMicros(
    addMicros(inputCostMicros, outputCostMicros),
    addMicros(requestCostMicros, itemCostMicros),
  );
  return { inputCostMicros, outputCostMicros, requestCostMicros, itemCostMicros, costMicros };
}
