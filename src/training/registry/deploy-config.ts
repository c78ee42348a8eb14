import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { ModelportError } from "../../core/errors.js";

/**
 * `modelport deploy`: points a config endpoint at `registry:NAME@ALIAS`. YAML is edited through
 * the yaml package's Document API, so comments, key order and every other entry stay as written.
 * Without `weight` the endpoint gets that one target; with it, the target is added or re-weighted
 * beside the existing ones (a canary: `--alias canary --weight 10`).
 */
export interface DeployEdit {
  endpoint: string;
  name: string;
  alias: string;
  weight?: number;
}

export function registryTargetModel(name: string, alias: string): string {
  return `registry:${name}@${alias}`;
}

function invalid(message: string): ModelportError {
  return new ModelportError("MP_CONFIG_INVALID", message);
}

function editJson(text: string, edit: DeployEdit): string {
  let config: Record<string, unknown>;
  try {
    config = text.trim() === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch (error) {
    throw new ModelportError("MP_CONFIG_INVALID", "the config file is not valid JSON", { cause: error });
  }
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw invalid("the config must be an object");
  config.endpoints ??= {};
  const endpoints = config.endpoints as Record<string, Record<string, unknown>>;
  endpoints[edit.endpoint] ??= {};
  const entry = endpoints[edit.endpoint] as Record<string, unknown>;
  entry.kind = "predict";
  const model = registryTargetModel(edit.name, edit.alias);
  if (edit.weight === undefined) entry.targets = [{ model }];
  else {
    const targets = Array.isArray(entry.targets) ? (entry.targets as Record<string, unknown>[]) : [];
    const existing = targets.find((target) => target?.model === model);
    if (existing) existing.weight = edit.weight;
    else targets.push({ model, weight: edit.weight });
    entry.targets = targets;
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

function editYaml(text: string, edit: DeployEdit): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw invalid(`the config file is not valid YAML: ${document.errors[0]?.message}`);
  if (document.contents !== null && !isMap(document.contents)) throw invalid("the config must be a mapping");
  const model = registryTargetModel(edit.name, edit.alias);
  const path = ["endpoints", edit.endpoint];
  const entry = document.getIn(path);
  if (entry !== undefined && !isMap(entry)) throw invalid(`endpoints.${edit.endpoint} must be a mapping`);
  if (entry === undefined) {
    document.setIn(path, document.createNode({ kind: "predict", targets: [{ model }] }));
    return document.toString();
  }
  const map = entry as YAMLMap;
  map.set("kind", "predict");
  const targets = map.get("targets");
  if (edit.weight === undefined || !isSeq(targets)) {
    const target = edit.weight === undefined ? { model } : { model, weight: edit.weight };
    map.set("targets", document.createNode([target]));
    return document.toString();
  }
  const seq = targets as YAMLSeq;
  const existing = seq.items.find((item) => isMap(item) && item.get("model") === model);
  if (existing) (existing as YAMLMap).set("weight", edit.weight);
  else seq.add(document.createNode({ model, weight: edit.weight }));
  return document.toString();
}

/** Returns the edited config text; `json` for `.json` files, YAML otherwise. */
export function upsertRegistryEndpoint(text: string, edit: DeployEdit, format: "yaml" | "json"): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(edit.endpoint))
    throw new ModelportError("MP_INVALID_REQUEST", `endpoint name '${edit.endpoint}' is not valid`, {
      param: "endpoint",
    });
  if (edit.weight !== undefined && !(Number.isFinite(edit.weight) && edit.weight >= 0))
    throw new ModelportError("MP_INVALID_REQUEST", "weight must be a non-negative number", { param: "weight" });
  return format === "json" ? editJson(text, edit) : editYaml(text, edit);
}
