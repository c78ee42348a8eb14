import { z } from "zod";
import { configSchema } from "./schema.js";

/** The config file's JSON Schema (draft 2020-12), as printed by `modelport config schema`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "Modelport configuration",
  };
}
