/** Alert rules on error rate, p99 latency, drift, budget and live accuracy, evaluated on a schedule. */
export {
  type BudgetStatus,
  type DriftStatus,
  type EvaluateRulesOptions,
  evaluateRules,
  type RuleOutcome,
  type RuleSources,
} from "./evaluate.js";
export {
  createRequestStatsSource,
  type RequestStats,
  type RequestStatsQuery,
  type RequestStatsSource,
} from "./request-stats.js";
export {
  type AlertRule,
  type AlertRuleInput,
  alertRuleSchema,
  parseAlertRules,
  parseWindow,
  RULE_KINDS,
  type RuleKind,
} from "./rule-schema.js";
export { type ScheduleRulesOptions, scheduleEvery, scheduleRules } from "./schedule.js";
