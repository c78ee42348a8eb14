import type { Context, Hono } from "hono";
import { estimateTokens } from "../../../commerce/limits/index.js";
import type { RateLimiter } from "../../../commerce/limits/limiter.js";
import { ModelportError, toModelportError } from "../../../core/errors.js";
import type { BudgetPort, MeteredUsage, MeteringContext, MeteringPort } from "../../../core/metering.js";
import type { CompletionUsage } from "../../../core/openai-types.js";
import type { GuardProvider, PrivacyFilters } from "../../../core/privacy.js";
import type { Metrics } from "../../../monitoring/metrics.js";
import { type ResponseCache, serveCached } from "../../cache/index.js";
import type { GatewayEnv, RequestUsage, StreamOutcome } from "../../context.js";
import type { EndpointRegistry } from "../../endpoint-registry.js";
import type { Router } from "../../resilience/router.js";
import { admit, promptCharacters, reserveBudget } from "../../stages/admission.js";
import { readJsonBody } from "../../stages/json-body.js";
import { answerForLog, filterChatMessages, restoreChunks, restoreCompletion } from "../../stages/privacy-filter.js";
import { guardStreamedAnswer } from "../../stages/stream-echo-guard.js";
import { stickyKeyFor } from "../../sticky-key.js";
import { waitedOn } from "../../upstream-time.js";
import { encodeEmbeddings } from "./embedding-encoding.js";
import { parseChatRequest, parseEmbeddingsRequest } from "./request-schemas.js";
import { chatChunksToSse, sseHeaders } from "./sse.js";

export interface OpenAIRoutesDeps {
  endpoints: EndpointRegistry;
  router: Router;
  metrics: Metrics;
  bodyLimitBytes: number;
  limiter?: RateLimiter | undefined;
  /** Settling or releasing a reservation failed (the limiter's store is down); logged, not thrown. */
  onLimiterError?: (error: unknown) => void;
  privacy?: PrivacyFilters | undefined;
  /** Whether the request log stores prompts and answers (so copies for it are made at all). */
  capturePayloads?: boolean | undefined;
  guards?: GuardProvider | undefined;
  metering?: MeteringPort | undefined;
  budgets?: BudgetPort | undefined;
  onMeteringError?: (error: unknown) => void;
  /** Opt-in per endpoint (`cache`): non-streamed chat completions and embeddings. */
  responseCache?: ResponseCache | undefined;
}

/** Token metrics for a request once its usage is known. */
function countTokens(metrics: Metrics, endpoint: string, usage: RequestUsage): void {
  if (usage.inputTokens > 0) metrics.tokens.labels(endpoint, "input").inc(usage.inputTokens);
  if (usage.outputTokens > 0) metrics.tokens.labels(endpoint, "output").inc(usage.outputTokens);
}

function reportedUsage(usage: CompletionUsage | null | undefined): RequestUsage | undefined {
  return usage ? { inputTokens: usage.prompt_tokens ?? 0, outputTokens: usage.completion_tokens ?? 0 } : undefined;
}

function meteringContext(
  c: Context<GatewayEnv>,
  endpoint: string,
  target: string,
  status: "ok" | "partial",
): MeteringContext | undefined {
  const principal = c.get("principal");
  if (!principal) return undefined;
  return {
    requestId: c.get("requestId"),
    tenantId: principal.tenantId,
    keyId: principal.keyId,
    endpoint,
    target,
    status,
  };
}

/** A request without max_tokens reserves this many output tokens against budgets. */
const defaultBudgetOutputTokens = 4_096;

/** Streamed answers are kept for the request log up to this many characters. */
const maxLoggedAnswer = 64 * 1024;

/** OpenAI-compatible inference routes: chat completions (plain and SSE), embeddings, model list. */
export function registerOpenAIRoutes(app: Hono<GatewayEnv>, deps: OpenAIRoutesDeps): void {
  const { endpoints, router, metrics, bodyLimitBytes, limiter } = deps;
  const onLimiterError = deps.onLimiterError ?? (() => {});
  const capturePayloads = deps.capturePayloads === true;

  app.post("/v1/chat/completions", async (c) => {
    const parsed = parseChatRequest(await readJsonBody(c, bodyLimitBytes));
    const endpoint = endpoints.require(parsed.model, "chat");
    c.set("endpoint", endpoint.name);
    const endUser = parsed.user ?? c.req.header("x-modelport-user");
    if (endUser) c.set("endUser", endUser);
    // Guards first (caps bound what the PII scan reads), then the PII policy.
    const principal = c.get("principal");
    const guards = principal ? deps.guards?.forRequest(principal.tenantName, endpoint.name) : undefined;
    const guarded = guards ? guards.checkRequest(parsed) : undefined;
    if (guarded?.error) throw guarded.error;
    if (guarded && guarded.verdict !== "allow") c.set("guardFindings", guarded.findings);
    const checked = guarded ? guarded.request : parsed;
    const { messages, filter } = filterChatMessages(c, deps.privacy, endpoint.name, checked.messages, capturePayloads);
    const request = messages === checked.messages ? checked : { ...checked, messages };
    await admit(
      c,
      limiter,
      estimateTokens({
        promptCharacters: promptCharacters(request.messages),
        maxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
      }),
      onLimiterError,
    );
    await reserveBudget(c, deps.budgets, deps.metering, endpoint.name, {
      inputTokens: Math.ceil(promptCharacters(request.messages) / 2),
      outputTokens: request.max_completion_tokens ?? request.max_tokens ?? defaultBudgetOutputTokens,
      items: 0,
    });
    const routing = {
      stickyKey: stickyKeyFor(c, endpoint, request.user),
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
      trace: c.get("trace"),
    };

    const timing = { waitMs: 0 };
    if (request.stream) {
      const routedAt = performance.now();
      const started = await router.executeStream(
        endpoint.route,
        {
          ...routing,
          // Shadows of a stream are mirrored as plain calls; their answers are compared, then dropped.
          shadowCall: (target, context) => {
            if (!target.runtime.chat) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot serve chat`);
            const { stream: _stream, stream_options: _options, ...plain } = request;
            return target.runtime.chat({ ...plain, model: target.model }, context);
          },
        },
        (target, context) => {
          if (!target.runtime.chatStream) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot stream chat`);
          timing.waitMs = 0; // only the attempt that succeeds counts
          return target.runtime.chatStream({ ...request, model: target.model, stream: true }, { ...context, timing });
        },
      );
      c.set("upstreamMs", waitedOn(timing, started.firstChunkMs, routedAt));
      c.set("target", started.target.id);
      let settle: (outcome: StreamOutcome) => void = () => {};
      c.set("streamDone", new Promise<StreamOutcome>((resolve) => (settle = resolve)));
      let delivered = "";
      let metered: Promise<MeteredUsage | undefined> | undefined;
      const meterStream = (status: "ok" | "partial") => {
        const context = meteringContext(c, endpoint.name, started.target.id, status);
        metered ??=
          deps.metering && context
            ? deps.metering.recordChat(context, {
                reported: started.usage(),
                messages: request.messages,
                completionText: delivered,
              })
            : Promise.resolve(undefined);
        return metered;
      };
      // The system-prompt echo check sees the upstream's chunks, before pseudonyms are restored.
      const streamGuard = guards?.checkStream?.(request);
      const requestFindings = c.get("guardFindings") ?? [];
      const answer = streamGuard
        ? guardStreamedAnswer(started.stream, streamGuard, (findings) =>
            c.set("guardFindings", [...requestFindings, ...findings]),
          )
        : started.stream;
      const body = chatChunksToSse(filter ? restoreChunks(answer, filter) : answer, {
        onChunk: (chunk) => {
          const delta = chunk.choices[0]?.delta.content;
          if (typeof delta === "string") delivered += delta;
        },
        // Billed before [DONE]: a client that saw the end of its stream is in the ledger.
        beforeDone: async () => {
          await meterStream("ok");
        },
        onEnd: (error) => {
          const finish = (usage: MeteredUsage | undefined) => {
            const counted = usage ?? reportedUsage(started.usage());
            if (counted) countTokens(metrics, endpoint.name, counted);
            settle({
              usage: counted ? { inputTokens: counted.inputTokens, outputTokens: counted.outputTokens } : undefined,
              costMicros: usage?.costMicros,
              errorCode: error === undefined ? undefined : (toModelportError(error).code as string),
              answerLogText: answerForLog(delivered.slice(0, maxLoggedAnswer), filter, capturePayloads),
            });
          };
          // A stream that broke off or was cancelled is billed for what was delivered.
          meterStream(error === undefined ? "ok" : "partial").then(finish, (meterError) => {
            deps.onMeteringError?.(meterError);
            finish(undefined);
          });
        },
      });
      return new Response(body, { status: 200, headers: sseHeaders });
    }

    let routedAt = performance.now();
    const result = await serveCached(deps.responseCache, c, endpoint, request, () => {
      routedAt = performance.now();
      return router.execute(endpoint.route, routing, (target, context) => {
        if (!target.runtime.chat) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot serve chat`);
        timing.waitMs = 0;
        return target.runtime.chat({ ...request, model: target.model }, { ...context, timing });
      });
    });
    c.set("upstreamMs", result.cached ? 0 : waitedOn(timing, result.upstreamMs, routedAt));
    c.set("target", result.target.id);
    const answer = result.value.choices.map((choice) => choice.message.content ?? "").join("");
    const context = meteringContext(c, endpoint.name, result.target.id, "ok");
    let usage = reportedUsage(result.value.usage);
    // An unbilled cache hit writes no usage record; its budget reservation is released (cost 0).
    if (deps.metering && context && result.billable) {
      // Durable before the response leaves: a completed answer is never unbilled.
      const metered = await deps.metering.recordChat(context, {
        reported: result.value.usage,
        messages: request.messages,
        completionText: answer,
      });
      usage = { inputTokens: metered.inputTokens, outputTokens: metered.outputTokens };
      c.set("costMicros", metered.costMicros);
    }
    if (usage) {
      c.set("usage", usage);
      countTokens(metrics, endpoint.name, usage);
    }
    const answerLogText = answerForLog(answer, filter, capturePayloads);
    if (answerLogText !== undefined) c.set("answerLogText", answerLogText);
    const echo = guards?.checkAnswer(request, result.value);
    if (echo && echo.verdict !== "allow")
      // Flagged or blocked, the echo joins the request's verdicts in the request log.
      c.set("guardFindings", [...(c.get("guardFindings") ?? []), ...echo.findings]);
    if (echo && echo.verdict === "block") {
      // The request was fine; the answer leaked the system prompt. Withhold it, as a content filter would.
      return c.json({
        ...result.value,
        choices: result.value.choices.map((choice) => ({
          ...choice,
          message: { ...choice.message, content: "" },
          finish_reason: "content_filter",
        })),
      });
    }
    return c.json(restoreCompletion(result.value, filter));
  });

  app.post("/v1/embeddings", async (c) => {
    const request = parseEmbeddingsRequest(await readJsonBody(c, bodyLimitBytes));
    const endpoint = endpoints.require(request.model, "embeddings");
    c.set("endpoint", endpoint.name);
    const endUser = request.user ?? c.req.header("x-modelport-user");
    if (endUser) c.set("endUser", endUser);
    const inputs = Array.isArray(request.input) ? request.input : [request.input];
    const characters = inputs.reduce<number>((total, item) => total + (typeof item === "string" ? item.length : 4), 0);
    await admit(c, limiter, estimateTokens({ promptCharacters: characters, maxOutputTokens: 0 }), onLimiterError);
    await reserveBudget(c, deps.budgets, deps.metering, endpoint.name, {
      inputTokens: Math.ceil(characters / 2),
      outputTokens: 0,
      items: 0,
    });
    const routing = {
      stickyKey: stickyKeyFor(c, endpoint, request.user),
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
      trace: c.get("trace"),
    };
    let routedAt = performance.now();
    const timing = { waitMs: 0 };
    const result = await serveCached(deps.responseCache, c, endpoint, request, () => {
      routedAt = performance.now();
      return router.execute(endpoint.route, routing, (target, context) => {
        if (!target.runtime.embed) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot embed`);
        timing.waitMs = 0;
        return target.runtime.embed({ ...request, model: target.model }, { ...context, timing });
      });
    });
    c.set("upstreamMs", result.cached ? 0 : waitedOn(timing, result.upstreamMs, routedAt));
    c.set("target", result.target.id);
    let inputTokens = result.value.usage?.prompt_tokens ?? 0;
    const context = meteringContext(c, endpoint.name, result.target.id, "ok");
    if (deps.metering && context && result.billable) {
      const metered = await deps.metering.recordEmbeddings(context, { reported: result.value.usage, request });
      inputTokens = metered.inputTokens;
      c.set("costMicros", metered.costMicros);
    }
    c.set("usage", { inputTokens, outputTokens: 0 });
    countTokens(metrics, endpoint.name, { inputTokens, outputTokens: 0 });
    return c.json(encodeEmbeddings(result.value, request.encoding_format));
  });

  const created = Math.floor(Date.now() / 1000);
  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: endpoints.list().map((entry) => ({
        id: entry.name,
        object: "model",
        created,
        owned_by: "modelport",
        modelport_kind: entry.kind,
      })),
    }),
  );

  app.get("/v1/models/:model", (c) => {
    const entry = endpoints.get(c.req.param("model"));
    if (!entry)
      throw new ModelportError(
        "MP_UNKNOWN_MODEL",
        `The model '${c.req.param("model")}' does not exist or you do not have access to it.`,
        {
          param: "model",
        },
      );
    return c.json({ id: entry.name, object: "model", created, owned_by: "modelport", modelport_kind: entry.kind });
  });
}
