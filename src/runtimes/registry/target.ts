import { ModelportError } from "../../core/errors.js";
import { parseModelRef } from "../../training/registry/registry.js";

/** `registry:NAME@ALIAS` (a config target's `model`) → its parts; undefined for other models. */
export function parseRegistryTarget(model: string): { name: string; alias: string } | undefined {
  if (!model.startsWith("registry:")) return undefined;
  const ref = parseModelRef(model.slice("registry:".length));
  if (ref.alias === undefined)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `target model '${model}' must name an alias (registry:NAME@ALIAS, e.g. @production): pinning a version number defeats roll-over`,
    );
  return { name: ref.name, alias: ref.alias };
}
