/**
 * The model registry: immutable, sha256-checked versions with lineage, signature, saved
 * preprocessing and a model card; aliases with a promotion gate and history.
 */
export { digestDirectory } from "./artifact-files.js";
export { type DeployEdit, registryTargetModel, upsertRegistryEndpoint } from "./deploy-config.js";
export { generateModelCard } from "./model-card.js";
export { checkPromotion, defaultPromotionThreshold, type GateDecision } from "./promotion-gate.js";
export {
  createModelRegistry,
  type ModelRegistry,
  type ModelRegistryOptions,
  type PromoteOptions,
  type PromotionResult,
  parseModelRef,
  type RegisterOptions,
  validateAlias,
  validateModelName,
} from "./registry.js";
export * from "./types.js";
