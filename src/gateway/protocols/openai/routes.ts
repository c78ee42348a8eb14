import type { Hono } from "hono";
import { estimateTokens } from "../../../commerce/limits/index.js";
import type { RateLimiter } from "../../../commerce/limits/limiter.js";
import { ModelportError, toModelportError } from "../../../core/errors.js";
import type { CompletionUsage } from "../../../core/openai-types.js";
import type { PrivacyFilters } from "../../../core/privacy.js";
import type { Metrics } from "../../../monitoring/metrics.js";
import type { GatewayEnv, RequestUsage, StreamOutcome } from "../../context.js";
import type { EndpointRegistry } from "../../endpoint-registry.js";
import type { Router } from "../../resilience/router.js";
import { admit, promptCharacters } from "../../stages/admission.js";
import { readJsonBody } from "../../stages/json-body.js";
import { filterChatMessages, restoreChunks, restoreCompletion } from "../../stages/privacy-filter.js";
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
}

/** OpenAI usage → the request's usage (metrics now; request log and metering when the request ends). */
function toUsage(
  metrics: Metrics,
  endpoint: string,
  usage: CompletionUsage | null | undefined,
): RequestUsage | undefined {
  if (!usage) return undefined;
  const inputTokens = usage.prompt_tokens ?? 0;
  const outputTokens = usage.completion_tokens ?? 0;
  if (inputTokens > 0) metrics.tokens.labels(endpoint, "input").inc(inputTokens);
  if (outputTokens > 0) metrics.tokens.labels(endpoint, "output").inc(outputTokens);
  return { inputTokens, outputTokens };
}

/** Streamed answers are kept for the request log up to this many characters. */
const maxLoggedAnswer = 64 * 1024;

/** OpenAI-compatible inference routes: chat completions (plain and SSE), embeddings, model list. */
export function registerOpenAIRoutes(app: Hono<GatewayEnv>, deps: OpenAIRoutesDeps): void {
  const { endpoints, router, metrics, bodyLimitBytes, limiter } = deps;
  const onLimiterError = deps.onLimiterError ?? (() => {});

  app.post("/v1/chat/completions", async (c) => {
    const parsed = parseChatRequest(await readJsonBody(c, bodyLimitBytes));
    const endpoint = endpoints.require(parsed.model, "chat");
    c.set("endpoint", endpoint.name);
    const endUser = parsed.user ?? c.req.header("x-modelport-user");
    if (endUser) c.set("endUser", endUser);
    const { messages, filter } = filterChatMessages(c, deps.privacy, endpoint.name, parsed.messages);
    const request = messages === parsed.messages ? parsed : { ...parsed, messages };
    await admit(
      c,
      limiter,
      estimateTokens({
        promptCharacters: promptCharacters(request.messages),
        maxOutputTokens: request.max_completion_tokens ?? request.max_tokens,
      }),
      onLimiterError,
    );
    const routing = {
      stickyKey: stickyKeyFor(c, endpoint, request.user),
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
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
      let answer = "";
      const body = chatChunksToSse(filter ? restoreChunks(started.stream, filter) : started.stream, {
        onChunk: (chunk) => {
          const delta = chunk.choices[0]?.delta.content;
          if (typeof delta === "string" && answer.length < maxLoggedAnswer) answer += delta;
        },
        onEnd: (error) =>
          settle({
            usage: toUsage(metrics, endpoint.name, started.usage()),
            errorCode: error === undefined ? undefined : (toModelportError(error).code as string),
            answerLogText: filter ? filter.inbound(answer).logText : answer,
          }),
      });
      return new Response(body, { status: 200, headers: sseHeaders });
    }

    const routedAt = performance.now();
    const result = await router.execute(endpoint.route, routing, (target, context) => {
      if (!target.runtime.chat) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot serve chat`);
      timing.waitMs = 0;
      return target.runtime.chat({ ...request, model: target.model }, { ...context, timing });
    });
    c.set("upstreamMs", waitedOn(timing, result.upstreamMs, routedAt));
    c.set("target", result.target.id);
    const usage = toUsage(metrics, endpoint.name, result.value.usage);
    if (usage) c.set("usage", usage);
    const answer = result.value.choices[0]?.message.content;
    if (typeof answer === "string") c.set("answerLogText", filter ? filter.inbound(answer).logText : answer);
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
    const routing = {
      stickyKey: stickyKeyFor(c, endpoint, request.user),
      signal: c.req.raw.signal,
      requestId: c.get("requestId"),
    };
    const routedAt = performance.now();
    const timing = { waitMs: 0 };
    const result = await router.execute(endpoint.route, routing, (target, context) => {
      if (!target.runtime.embed) throw new ModelportError("MP_UNSUPPORTED", `${target.id} cannot embed`);
      timing.waitMs = 0;
      return target.runtime.embed({ ...request, model: target.model }, { ...context, timing });
    });
    c.set("upstreamMs", waitedOn(timing, result.upstreamMs, routedAt));
    c.set("target", result.target.id);
    const inputTokens = result.value.usage?.prompt_tokens ?? 0;
    if (inputTokens > 0) metrics.tokens.labels(endpoint.name, "input").inc(inputTokens);
    c.set("usage", { inputTokens, outputTokens: 0 });
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
