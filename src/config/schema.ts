import { z } from "zod";
import { guardPolicySchema } from "../privacy/guards/guard-policy.js";
import { piiPolicySchema } from "../privacy/pii/policy.js";

/**
 * The config file's schema: strict everywhere (an unknown key is an error that names it), with the
 * defaults a production deployment would want. `modelport config schema` prints it as JSON Schema.
 */
const positiveInt = z.number().int().positive();
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "letters, digits and . _ : / - only");

export const timeoutsSchema = z.strictObject({
  connectMs: positiveInt.default(5_000).describe("Time allowed to open a connection to an upstream."),
  firstByteMs: positiveInt.default(60_000).describe("Time allowed until the first byte or token."),
  totalMs: positiveInt.default(600_000).describe("Time allowed for the whole call, streams included."),
});

const openaiProviderSchema = z.strictObject({
  type: z.literal("openai").describe("Any OpenAI-compatible HTTP upstream (OpenAI, vLLM, Ollama, llama.cpp server)."),
  baseUrl: z.url({ protocol: /^https?$/ }).describe("Base URL including /v1, e.g. http://127.0.0.1:9000/v1"),
  apiKey: z.string().min(1).optional().describe("Sent as a bearer token; use ${VAR} to read it from the environment."),
  headers: z.record(z.string(), z.string()).optional(),
  maxConnections: positiveInt.max(10_000).default(128).describe("Pooled keep-alive connections to this upstream."),
});

const onnxProviderSchema = z.strictObject({
  type: z.literal("onnx"),
  path: z.string().min(1).describe("Path to a .onnx model file."),
  intraOpThreads: positiveInt.max(256).optional(),
});

const tfjsProviderSchema = z.strictObject({
  type: z.literal("tfjs"),
  path: z.string().min(1).describe("Path to a TensorFlow.js layers model.json."),
  inputNames: z.array(z.string().min(1)).optional(),
  outputNames: z.array(z.string().min(1)).optional(),
});

const ggufProviderSchema = z.strictObject({
  type: z.literal("gguf"),
  path: z.string().min(1).describe("Path to a .gguf model file (llama.cpp)."),
  contextSize: positiveInt.max(1_048_576).optional(),
  maxConcurrency: positiveInt.max(64).default(2).describe("Requests generated in parallel; more wait in a queue."),
  idleTimeoutMs: z.number().int().min(0).default(300_000).describe("Unload after this long without requests; 0 never."),
  threads: positiveInt.max(256).optional(),
});

export const providerSchema = z.discriminatedUnion("type", [
  openaiProviderSchema,
  onnxProviderSchema,
  tfjsProviderSchema,
  ggufProviderSchema,
]);

const targetSchema = z
  .strictObject({
    provider: name.optional().describe("A key of `providers`; omit it for `model: registry:NAME@ALIAS`."),
    model: z
      .string()
      .min(1)
      .optional()
      .describe("The model name the provider knows (defaults to the endpoint name), or registry:NAME@ALIAS."),
    weight: z.number().min(0).max(1_000_000).default(1).describe("Relative share of traffic (canary)."),
  })
  .refine((target) => target.provider !== undefined || target.model?.startsWith("registry:"), {
    message: "a target needs a provider, or a model of the form registry:NAME@ALIAS",
  });

const fallbackSchema = z
  .strictObject({ provider: name.optional(), model: z.string().min(1).optional() })
  .refine((target) => target.provider !== undefined || target.model?.startsWith("registry:"), {
    message: "a target needs a provider, or a model of the form registry:NAME@ALIAS",
  });

const shadowSchema = z.strictObject({
  provider: name.optional(),
  model: z.string().min(1).optional(),
  sampleRate: z.number().min(0).max(1).default(1).describe("Share of requests mirrored to this target."),
});

const pricingSchema = z.strictObject({
  inputPerMillionTokens: z.number().min(0).optional(),
  outputPerMillionTokens: z.number().min(0).optional(),
  perRequest: z.number().min(0).optional(),
  perPredictItem: z.number().min(0).optional(),
});

export const endpointSchema = z.strictObject({
  kind: z.enum(["chat", "embeddings", "predict"]),
  targets: z.array(targetSchema).min(1),
  fallbacks: z.array(fallbackSchema).default([]),
  shadow: z.array(shadowSchema).default([]),
  sticky: z
    .enum(["none", "user", "tenant", "key"])
    .default("none")
    .describe("Pin each user (the request's `user` field or x-modelport-user header), tenant or key to one target."),
  retry: z
    .strictObject({
      maxAttempts: positiveInt.max(10).default(2).describe("Tries per target, the first included."),
      baseDelayMs: z.number().int().min(0).default(100),
      maxDelayMs: z.number().int().min(0).default(2_000),
      maxRetryAfterMs: z.number().int().min(0).default(10_000).describe("Longer upstream Retry-After: next target."),
    })
    .prefault({}),
  timeouts: timeoutsSchema.prefault({}),
  breaker: z
    .strictObject({
      failureThreshold: positiveInt.default(5).describe("Consecutive retryable failures that open the breaker."),
      cooldownMs: positiveInt.default(30_000),
      halfOpenMaxRequests: positiveInt.default(1),
    })
    .prefault({}),
  pricing: pricingSchema.optional().describe("USD; used for metering."),
  autoRollback: z
    .boolean()
    .default(false)
    .describe("Set a canary target's weight to 0 when it breaches its SLOs relative to the stable (heaviest) target."),
  cache: z
    .strictObject({
      ttlSeconds: positiveInt.max(31_536_000).default(300).describe("How long an answer is served from the cache."),
      maxEntries: positiveInt.default(10_000).describe("Answers kept per endpoint by the in-memory store (LRU)."),
      maxEntryBytes: positiveInt.default(256 * 1024).describe("Larger answers are not cached."),
      billHits: z
        .boolean()
        .default(true)
        .describe("Bill a cached answer like a fresh one; false: hits are logged but not metered."),
    })
    .optional()
    .describe(
      "Response cache for non-streamed chat completions and embeddings (opt-in), per tenant; in Redis when MODELPORT_REDIS_URL is set.",
    ),
});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65_535).optional(),
      bodyLimitBytes: positiveInt.default(4 * 1024 * 1024).describe("Larger request bodies get 413."),
      drainTimeoutMs: positiveInt.default(30_000).describe("How long SIGTERM waits for in-flight requests."),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      accessLog: z.boolean().default(true).describe("One line per request (never bodies or keys)."),
    })
    .prefault({}),
  requestLog: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe("Keep one record per inference request (searchable in the admin API)."),
      retentionDays: positiveInt.max(3_650).default(30).describe("Records older than this are deleted hourly."),
      payloads: z
        .boolean()
        .default(false)
        .describe("Also keep prompts and answers: PII-masked per policy and encrypted with the tenant's data key."),
    })
    .prefault({}),
  auth: z
    .strictObject({
      keyCacheTtlMs: z
        .number()
        .int()
        .min(0)
        .max(60_000)
        .default(1_000)
        .describe("How long a validated key is trusted before re-reading it (revocations by other processes)."),
    })
    .prefault({}),
  pii: z
    .strictObject({
      default: piiPolicySchema.optional().describe("Applies where no tenant or endpoint policy does."),
      endpoints: z.record(name, piiPolicySchema).optional(),
      tenants: z
        .record(z.string(), piiPolicySchema)
        .optional()
        .describe("By tenant name; wins over endpoint policies."),
    })
    .optional()
    .describe("PII policies: entity type → allow | mask_logs | pseudonymize | redact | block."),
  guards: z
    .strictObject({
      default: guardPolicySchema.optional(),
      endpoints: z.record(name, guardPolicySchema).optional(),
      tenants: z.record(z.string(), guardPolicySchema).optional(),
    })
    .optional()
    .describe("Input/output guards: prompt injection (flag|block), caps on size and max_tokens, system-prompt echo."),
  alerts: z
    .strictObject({
      webhooks: z
        .array(z.strictObject({ url: z.url({ protocol: /^https?$/ }), secret: z.string().min(16) }))
        .default([])
        .describe("Where operator-wide alerts go; tenants add their own webhooks in the admin API."),
      rules: z.array(z.record(z.string(), z.unknown())).default([]).describe("Alert rules (see README: Alerts)."),
      evaluateEveryMs: positiveInt.default(60_000),
    })
    .prefault({}),
  tracing: z
    .strictObject({
      enabled: z.boolean().default(false).describe("Export OpenTelemetry traces (OTLP/HTTP, JSON)."),
      otlpEndpoint: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe(
          "Collector URL; /v1/traces is appended unless present. Env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT wins; default http://127.0.0.1:4318.",
        ),
      serviceName: z
        .string()
        .min(1)
        .optional()
        .describe("service.name of the spans (env OTEL_SERVICE_NAME wins); default modelport."),
      sampleRatio: z
        .number()
        .min(0)
        .max(1)
        .default(1)
        .describe("Share of new traces recorded; a caller's traceparent decides for its own trace."),
      headers: z
        .record(z.string(), z.string())
        .default({})
        .describe("Sent with every export, e.g. an API key as ${VAR}."),
      batchDelayMs: positiveInt.default(5_000).describe("How long finished spans wait to be sent together."),
    })
    .prefault({}),
  training: z
    .strictObject({
      concurrency: positiveInt
        .max(16)
        .default(1)
        .describe("Training jobs this server runs at once (one saturates the CPU)."),
      queuePrefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/)
        .default("modelport")
        .describe("Redis key prefix of the BullMQ training queue (used when MODELPORT_REDIS_URL is set)."),
      worker: z
        .boolean()
        .default(true)
        .describe(
          "Train jobs in this server process. false: the server only queues jobs and dedicated `modelport worker` processes train them (needs MODELPORT_REDIS_URL).",
        ),
    })
    .prefault({}),
  drift: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe("Watch predict endpoints served from the registry whose version has a reference profile."),
      checkEveryMs: positiveInt.default(300_000).describe("How often windows with new rows are tested."),
      windowMs: positiveInt
        .default(86_400_000)
        .describe("A live window's length; after it the window is tested a last time and a new one starts."),
      minRows: positiveInt.default(100).describe("Windows with fewer rows are not tested."),
      snapshotEveryMs: positiveInt
        .default(60_000)
        .describe("How often changed windows are saved (a restart loses at most this much traffic)."),
      driftShare: z
        .number()
        .gt(0)
        .max(1)
        .default(0.5)
        .describe("Share of drifted columns that means dataset drift (Evidently's default)."),
      severity: z.enum(["info", "warning", "critical"]).default("warning").describe("Of drift-detected alerts."),
    })
    .prefault({}),
  providers: z.record(name, providerSchema).default({}),
  endpoints: z.record(name, endpointSchema).default({}),
});

export type ModelportConfig = z.infer<typeof configSchema>;
export type ProviderConfig = z.infer<typeof providerSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
