export { integerFromDatabase } from "./database-integer.js";
export {
  addMicros,
  basisPointsOf,
  formatMicros,
  type Micros,
  microsPerUnit,
  multiplyMicros,
  parseDecimalMicros,
  perMillionCost,
  sumMicros,
} from "./money.js";
