import type { ErrorCode } from "../../core/error-codes.js";
import { ModelportError } from "../../core/errors.js";
import { parseDecimalMicros } from "../money/money.js";
import type { PriceSchedule } from "./price-types.js";

/** Prices as a config file or admin request writes them: decimal currency units (USD). */
export interface DecimalPrices {
  inputPerMillionTokens?: number | string | undefined;
  outputPerMillionTokens?: number | string | undefined;
  perRequest?: number | string | undefined;
  perPredictItem?: number | string | undefined;
}

const fields = [
  ["inputPerMillionTokens", "inputPerMillionTokensMicros"],
  ["outputPerMillionTokens", "outputPerMillionTokensMicros"],
  ["perRequest", "perRequestMicros"],
  ["perPredictItem", "perPredictItemMicros"],
] as const;

/**
 * Decimal prices → integer micros, exactly. Missing fields cost 0. Rejects (naming the field,
 * e.g. `endpoints.chat-small.pricing.perRequest`) negative, non-finite, malformed and
 * over-precise values, and unknown fields (a typo would otherwise make something free).
 */
export function parsePriceSchedule(
  input: DecimalPrices,
  options: { fieldPrefix: string; code?: ErrorCode },
): PriceSchedule {
  const code = options.code ?? "MP_INVALID_REQUEST";
  const known = new Set<string>(fields.map(([name]) => name));
  for (const name of Object.keys(input)) {
    if (!known.has(name)) {
      throw new ModelportError(
        code,
        `${options.fieldPrefix}.${name}: unknown price field (expected ${[...known].join(", ")})`,
        {
          param: `${options.fieldPrefix}.${name}`,
        },
      );
    }
  }
  const schedule: PriceSchedule = {
    inputPerMillionTokensMicros: 0,
    outputPerMillionTokensMicros: 0,
    perRequestMicros: 0,
    perPredictItemMicros: 0,
  };
  for (const [name, target] of fields) {
    const value = input[name];
    if (value === undefined) continue;
    schedule[target] = parseDecimalMicros(value, { field: `${options.fieldPrefix}.${name}`, code });
  }
  return schedule;
}

const currencyPattern = /^[A-Z]{3}$/;

/** ISO 4217 style: three upper-case letters. */
export function parseCurrency(input: string, field: string, code: ErrorCode = "MP_INVALID_REQUEST"): string {
  if (!currencyPattern.test(input)) {
    throw new ModelportError(code, `${field}: currency must be three upper-case letters (e.g. USD), got "${input}"`, {
      param: field,
    });
  }
  return input;
}
