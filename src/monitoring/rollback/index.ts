/** Auto-rollback: a canary that breaches its SLOs relative to the stable target goes to weight 0. */
export {
  type CanarySlo,
  DEFAULT_CANARY_SLO,
  decideRollback,
  type RollbackDecision,
  type TargetHealth,
} from "./decide.js";
export {
  type CanaryCheck,
  type CanaryPair,
  createRollbackGuard,
  type RollbackEvent,
  type RollbackGuard,
  type RollbackGuardOptions,
  type SetTargetWeight,
} from "./guard.js";
