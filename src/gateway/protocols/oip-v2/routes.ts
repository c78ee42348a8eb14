import type { Context, Hono } from "hono";
import type { RateLimiter } from "../../../commerce/limits/limiter.js";
import { ModelportError } from "../../../core/errors.js";
import type { BudgetPort, MeteringPort } from "../../../core/metering.js";
import type { OipInferRequest, OipTensor } from "../../../core/oip-types.js";
import { validateTensor } from "../../../core/tensors.js";
import type { GatewayEnv } from "../../context.js";
import type { EndpointRegistry } from "../../endpoint-registry.js";
import type { Router } from "../../resilience/router.js";
import { admit, reserveBudget } from "../../stages/admission.js";
import { readJsonBody } from "../../stages/json-body.js";
import { stickyKeyFor } from "../../sticky-key.js";
import { waitedOn } from "../../upstream-time.js";

/**
 * Sees every successful prediction: raw inputs as sent, outputs as returned, and the version that
 * answered (drift windows, monitoring/drift-watch). Called on the request path, so it must only
 * update memory; a throw is reported through `onPredictObserverError` and never fails the request.
 */
export interface PredictObserver {
  observe(observation: {
    endpoint: string;
    target: string;
    modelVersion: string | undefined;
    inputs: readonly OipTensor[];
    outputs: readonly OipTensor[];
  }): void;
}

export interface OipRoutesDeps {
  endpoints: EndpointRegistry;
  router: Router;
  bodyLimitBytes: number;
  version: string;
  /** False while the server drains or storage is down: /v2/health/ready answers 503. */
  isReady: () => boolean;
  limiter?: RateLimiter | undefined;
  onLimiterError?: (error: unknown) => void;
  metering?: MeteringPort | undefined;
  budgets?: BudgetPort | undefined;
  drift?: PredictObserver | undefined;
  onPredictObserverError?: ((error: unknown) => void) | undefined;
}

function parseInferRequest(body: unknown): OipInferRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ModelportError("MP_INVALID_REQUEST", "the request body must be a JSON object");
  const { id, parameters, inputs, outputs } = body as Record<string, unknown>;
  if (id !== undefined && typeof id !== "string")
    throw new ModelportError("MP_INVALID_REQUEST", "'id' must be a string", { param: "id" });
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new ModelportError("MP_INVALID_REQUEST", "'inputs' must be a non-empty array of tensors", {
      param: "inputs",
    });
  const tensors = inputs.map((tensor, index) => validateTensor(tensor, `inputs.${index}`));
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (names.has(tensor.name))
      throw new ModelportError("MP_INVALID_REQUEST", `input '${tensor.name}' is given twice`, { param: "inputs" });
    names.add(tensor.name);
  }
  let requestedOutputs: OipInferRequest["outputs"];
  if (outputs !== undefined) {
    if (
      !Array.isArray(outputs) ||
      !outputs.every((o) => typeof o === "object" && o !== null && typeof o.name === "string")
    )
      throw new ModelportError("MP_INVALID_REQUEST", "'outputs' must be an array of {name}", { param: "outputs" });
    requestedOutputs = outputs as OipInferRequest["outputs"];
  }
  return {
    ...(id === undefined ? {} : { id }),
    ...(parameters && typeof parameters === "object" ? { parameters: parameters as Record<string, unknown> } : {}),
    inputs: tensors,
    ...(requestedOutputs ? { outputs: requestedOutputs } : {}),
  };
}

/** Open Inference Protocol v2 (KServe, Triton, MLServer): health, metadata, readiness and infer. */
export function registerOipRoutes(app: Hono<GatewayEnv>, deps: OipRoutesDeps): void {
  const { endpoints, router, bodyLimitBytes } = deps;

  app.get("/v2", (c) => c.json({ name: "modelport", version: deps.version, extensions: [] }));
  app.get("/v2/health/live", (c) => c.json({ live: true }));
  app.get("/v2/health/ready", (c) => (deps.isReady() ? c.json({ ready: true }) : c.json({ ready: false }, 503)));

  const metadata = async (name: string) => {
    const endpoint = endpoints.require(name, "predict");
    const runtime =
      endpoint.route.targets.find((target) => target.weight > 0)?.runtime ?? endpoint.route.targets[0]?.runtime;
    if (!runtime?.predictMetadata) throw new ModelportError("MP_UNSUPPORTED", `'${name}' has no tensor metadata`);
    const described = await runtime.predictMetadata();
    return {
      name,
      versions: ["1"],
      platform: described.platform,
      inputs: described.inputs,
      outputs: described.outputs,
    };
  };
  const ready = (name: string) => {
    const endpoint = endpoints.require(name, "predict");
    return endpoint.route.targets.some((target) => target.weight > 0 && target.runtime.isReady());
  };

  app.get("/v2/models/:name", async (c) => {
    c.set("endpoint", c.req.param("name"));
    return c.json(await metadata(c.req.param("name")));
  });
  app.get("/v2/models/:name/versions/:version", async (c) => {
    c.set("endpoint", c.req.param("name"));
    return c.json(await metadata(c.req.param("name")));
  });
  app.get("/v2/models/:name/ready", (c) => {
    const name = c.req.param("name");
    c.set("endpoint", name);
    return ready(name) ? c.json({ name, ready: true }) : c.json({ name, ready: false }, 503);
  });

  const infer = async (c: Context<GatewayEnv>) => {
    const name = c.req.param("name") ?? "";
    const endpoint = endpoints.require(name, "predict");
    c.set("endpoint", endpoint.name);
    const request = parseInferRequest(await readJsonBody(c, bodyLimitBytes));
    await admit(c, deps.limiter, 0, deps.onLimiterError ?? (() => {}));
    const items = Math.max(1, request.inputs[0]?.shape[0] ?? 1);
    await reserveBudget(c, deps.budgets, deps.metering, endpoint.name, { inputTokens: 0, outputTokens: 0, items });
    const routing = {
      stickyKey: stickyKeyFor(c, endpoint, undefined),
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
      trace: c.get("trace"),
    };
    const routedAt = performance.now();
    const result = await router.execute(endpoint.route, routing, (target, context) => {
      if (!target.runtime.predict) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot predict`);
      return target.runtime.predict(request, context);
    });
    c.set("upstreamMs", waitedOn({ waitMs: 0 }, result.upstreamMs, routedAt));
    c.set("target", result.target.id);
    const principal = c.get("principal");
    if (deps.metering && principal) {
      const metered = await deps.metering.recordPredict(
        {
          requestId: c.get("requestId"),
          tenantId: principal.tenantId,
          keyId: principal.keyId,
          endpoint: endpoint.name,
          target: result.target.id,
          status: "ok",
        },
        request,
      );
      c.set("costMicros", metered.costMicros);
    }
    if (deps.drift) {
      try {
        deps.drift.observe({
          endpoint: endpoint.name,
          target: result.target.id,
          modelVersion: result.value.model_version,
          inputs: request.inputs,
          outputs: result.value.outputs,
        });
      } catch (error) {
        deps.onPredictObserverError?.(error);
      }
    }
    const label = result.value.outputs.find((output) => output.name === "label")?.data[0];
    if (typeof label === "string" || typeof label === "number") c.set("predictedLabel", label);
    if (result.value.model_version) c.set("modelVersion", result.value.model_version);
    return c.json({
      model_name: endpoint.name,
      model_version: result.value.model_version ?? "1",
      id: request.id ?? c.get("requestId"),
      ...(result.value.parameters ? { parameters: result.value.parameters } : {}),
      outputs: result.value.outputs,
    });
  };
  app.post("/v2/models/:name/infer", infer);
  app.post("/v2/models/:name/versions/:version/infer", infer);
}
