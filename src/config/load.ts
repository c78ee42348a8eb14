import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ModelportError } from "../core/errors.js";
import { configSchema, type ModelportConfig } from "./schema.js";

/** Thrown for any problem with the config file; the message names the file, the key and what was expected. */
export function configError(message: string, cause?: unknown): ModelportError {
  return new ModelportError("MP_CONFIG_INVALID", message, { cause });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(top level)" : path.map(String).join(".");
}

/** One line per problem, naming the key path and what was expected. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const where = formatPath(issue.path);
      return issue.keys.map((key) => `unknown key '${key}' in ${where}`).join("; ");
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}

const variablePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string value. A variable that is unset and has
 * no default is an error naming the variable and the key, so a missing secret fails start-up.
 */
export function interpolateEnvironment(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: string[] = [],
): unknown {
  if (typeof value === "string") {
    return value.replace(variablePattern, (_match, variable: string, fallback: string | undefined) => {
      const resolved = env[variable] ?? fallback;
      if (resolved === undefined)
        throw configError(
          `${formatPath(path)}: environment variable ${variable} is not set (use \${${variable}:-default} for a default)`,
        );
      return resolved;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => interpolateEnvironment(item, env, [...path, String(index)]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolateEnvironment(item, env, [...path, key]);
    return out;
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Checks references between sections: targets name existing providers of a kind that fits the endpoint. */
function checkReferences(config: ModelportConfig): string[] {
  const problems: string[] = [];
  const kindsByType: Record<string, readonly string[]> = {
    openai: ["chat", "embeddings"],
    gguf: ["chat", "embeddings"],
    onnx: ["predict"],
    tfjs: ["predict"],
  };
  for (const [endpointName, endpoint] of Object.entries(config.endpoints)) {
    const groups = [
      ["targets", endpoint.targets],
      ["fallbacks", endpoint.fallbacks],
      ["shadow", endpoint.shadow],
    ] as const;
    for (const [group, targets] of groups) {
      targets.forEach((target, index) => {
        const where = `endpoints.${endpointName}.${group}.${index}.provider`;
        if (target.provider === undefined) {
          if (!target.model?.startsWith("registry:"))
            problems.push(`${where}: a target needs a provider, or a model of the form registry:NAME@ALIAS`);
          else if (endpoint.kind !== "predict")
            problems.push(`${where}: registry models serve predict endpoints, not '${endpoint.kind}'`);
          return;
        }
        const provider = config.providers[target.provider];
        if (!provider) {
          const known = Object.keys(config.providers);
          problems.push(
            `${where}: no provider named '${target.provider}' (known: ${known.length ? known.join(", ") : "none"})`,
          );
        } else if (!kindsByType[provider.type]?.includes(endpoint.kind)) {
          problems.push(`${where}: a '${provider.type}' provider cannot serve a '${endpoint.kind}' endpoint`);
        }
      });
    }
    if (endpoint.targets.every((target) => target.weight === 0))
      problems.push(`endpoints.${endpointName}.targets: at least one target needs a weight above 0`);
  }
  return problems;
}

/** Validates a parsed document (after interpolation) and returns the frozen config. */
export function validateConfig(document: unknown, source: string): Readonly<ModelportConfig> {
  const result = configSchema.safeParse(document ?? {});
  if (!result.success) {
    const lines = describeIssues(result.error.issues);
    throw configError(`invalid config in ${source}: ${lines.join("; ")}`);
  }
  const problems = checkReferences(result.data);
  if (problems.length > 0) throw configError(`invalid config in ${source}: ${problems.join("; ")}`);
  return deepFreeze(result.data);
}

/** Parses YAML or JSON text (by extension; YAML is a superset of JSON, so unknown extensions use YAML). */
export function parseConfigText(text: string, source: string): unknown {
  try {
    return extname(source).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw configError(`cannot parse ${source}: ${(error as Error).message}`, error);
  }
}

/** Reads, interpolates and validates a config file. */
export function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): Readonly<ModelportConfig> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw configError(`cannot read config file ${path}: ${(error as Error).message}`, error);
  }
  const document = parseConfigText(text, path);
  let interpolated: unknown;
  try {
    interpolated = interpolateEnvironment(document, env);
  } catch (error) {
    throw configError(`invalid config in ${path}: ${(error as Error).message}`, error);
  }
  return validateConfig(interpolated, path);
}

/** The config used when no file is given: no providers, no endpoints, every default. */
export function defaultConfig(): Readonly<ModelportConfig> {
  return validateConfig({}, "(defaults)");
}
