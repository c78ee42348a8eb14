export { createRegistryRuntime, type RegistryRuntime, type RegistryRuntimeOptions } from "./runtime.js";
export { defaultLoadRuntime, type LoadRuntime } from "./served-version.js";
export { parseRegistryTarget } from "./target.js";
