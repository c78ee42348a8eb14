import type { EndpointConfig, ModelportConfig } from "../config/schema.js";
import { ModelportError } from "../core/errors.js";
import type { EndpointKind, ModelRuntime } from "../core/runtime.js";
import { type EndpointRoute, type RouteTarget, validateRoute } from "./resilience/router.js";

export interface EndpointEntry {
  name: string;
  kind: EndpointKind;
  route: EndpointRoute;
  config: Readonly<EndpointConfig>;
}

export interface EndpointRegistry {
  /** The endpoint a client named, or MP_UNKNOWN_MODEL; MP_WRONG_ENDPOINT_KIND if it serves another kind. */
  require(name: string, kind: EndpointKind): EndpointEntry;
  get(name: string): EndpointEntry | undefined;
  list(): EndpointEntry[];
}

/** Makes the runtime that serves `registry:NAME@ALIAS` (one per name@alias, shared by targets). */
export type RegistryRuntimeFactory = (name: string, alias: string) => ModelRuntime;

function target(
  runtimes: ReadonlyMap<string, ModelRuntime>,
  endpointName: string,
  spec: { provider?: string | undefined; model?: string | undefined; weight?: number },
  registryRuntime: RegistryRuntimeFactory | undefined,
): RouteTarget {
  if (spec.provider === undefined) {
    const match = /^registry:([A-Za-z0-9][A-Za-z0-9._-]*)@([A-Za-z][A-Za-z0-9._-]*)$/.exec(spec.model ?? "");
    if (!match || !registryRuntime)
      throw new ModelportError(
        "MP_CONFIG_INVALID",
        `endpoint '${endpointName}': '${spec.model}' is not a registry:NAME@ALIAS target`,
      );
    const [, name, alias] = match as unknown as [string, string, string];
    return {
      id: `registry/${name}@${alias}`,
      runtime: registryRuntime(name, alias),
      model: `${name}@${alias}`,
      weight: spec.weight ?? 1,
    };
  }
  const runtime = runtimes.get(spec.provider);
  if (!runtime)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `endpoint '${endpointName}' names unknown provider '${spec.provider}'`,
    );
  const model = spec.model ?? endpointName;
  return { id: `${spec.provider}/${model}`, runtime, model, weight: spec.weight ?? 1 };
}

/** Builds each endpoint's route (targets, fallbacks, shadows, policies) from the validated config. */
export function createEndpointRegistry(
  config: Readonly<ModelportConfig>,
  runtimes: ReadonlyMap<string, ModelRuntime>,
  registryRuntime?: RegistryRuntimeFactory,
): EndpointRegistry {
  const entries = new Map<string, EndpointEntry>();
  for (const [name, endpoint] of Object.entries(config.endpoints)) {
    const route: EndpointRoute = {
      name,
      kind: endpoint.kind,
      targets: endpoint.targets.map((spec) => target(runtimes, name, spec, registryRuntime)),
      fallbacks: endpoint.fallbacks.map((spec) => target(runtimes, name, spec, registryRuntime)),
      shadows: endpoint.shadow.map((spec) => ({
        target: target(runtimes, name, spec, registryRuntime),
        sampleRate: spec.sampleRate,
      })),
      retry: { ...endpoint.retry },
      timeouts: { ...endpoint.timeouts },
      breaker: { ...endpoint.breaker },
    };
    validateRoute(route);
    entries.set(name, { name, kind: endpoint.kind, route, config: endpoint });
  }
  return {
    get: (name) => entries.get(name),
    list: () => [...entries.values()],
    require(name, kind) {
      const entry = entries.get(name);
      if (!entry)
        throw new ModelportError(
          "MP_UNKNOWN_MODEL",
          `The model '${name}' does not exist or you do not have access to it.`,
          {
            param: "model",
          },
        );
      if (entry.kind !== kind)
        throw new ModelportError(
          "MP_WRONG_ENDPOINT_KIND",
          `'${name}' is a ${entry.kind} endpoint; this API serves ${kind} endpoints`,
          {
            param: "model",
          },
        );
      return entry;
    },
  };
}
