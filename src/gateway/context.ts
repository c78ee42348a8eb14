import type { Principal } from "../commerce/authenticator.js";
import type { Actor } from "../commerce/rbac.js";
import type { RequestTrace } from "../monitoring/tracing/request-trace.js";
import type { Admission } from "./stages/admission.js";

/**
 * What stages put on a request's context for later stages. Read with `c.get("name")`, not `c.var`:
 * hono builds a fresh object on every `c.var` access, which showed up in the gateway profile.
 */
export interface GatewayVariables {
  requestId: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** Milliseconds spent waiting on the model (to first chunk for streams); the rest is overhead. */
  upstreamMs: number;
  /** `openai`, `oip` or `admin`: which error shape and metric label apply. */
  protocol: "openai" | "oip" | "admin" | "other";
  principal?: Principal;
  /** Who acts on the admin API: the operator (admin token) or a tenant role. */
  actor?: Actor;
  endpoint?: string;
  target?: string;
  /** The end user the caller named (OpenAI `user`, x-modelport-user); logged only as a keyed hash. */
  endUser?: string;
  /** Token counts once known (set by protocol handlers; for streams, when the stream ends). */
  usage?: RequestUsage;
  /** The ModelportError code of a failed request. */
  errorCode?: string;
  /** For streamed responses: settles when the stream has ended (finished, failed or cancelled). */
  streamDone?: Promise<StreamOutcome>;
  /** The rate-limit reservation, finished when the request is over. */
  admission?: Admission;
  /** The prompt as stored logs may keep it (PII masked per policy); stored only encrypted. */
  promptLogText?: string;
  /** The answer as stored logs may keep it. */
  answerLogText?: string;
  /** PII entity types found in the request. */
  piiFound?: string[];
  /** A predict request's first predicted label (joined with feedback for live accuracy). */
  predictedLabel?: string | number;
  /** The model version that answered (registry models report theirs). */
  modelVersion?: string;
  /** Guard findings when a guard flagged, modified or blocked something. */
  guardFindings?: unknown[];
  /** What the request was charged (micro-units), once metered. */
  costMicros?: number;
  /** The monthly-budget reservation, settled to `costMicros` when the request ends. */
  budget?: { settle(actualMicros: number): void };
  /** The request's server span when tracing is enabled; the router hangs attempt spans under it. */
  trace?: RequestTrace;
  /** Whether a response cache answered (traced as modelport.cache.hit); unset where no cache applies. */
  cacheHit?: boolean;
}

export interface RequestUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface StreamOutcome {
  usage: RequestUsage | undefined;
  costMicros?: number | undefined;
  errorCode: string | undefined;
  /** The streamed answer as stored logs may keep it. */
  answerLogText?: string | undefined;
}

/** Everything known about a request once it is over: what the request log and metering consume. */
export interface FinishedRequest {
  requestId: string;
  time: string;
  protocol: GatewayVariables["protocol"];
  method: string;
  path: string;
  status: number;
  latencyUs: number;
  overheadUs: number;
  principal: Principal | undefined;
  endpoint: string | undefined;
  target: string | undefined;
  endUser: string | undefined;
  usage: RequestUsage | undefined;
  errorCode: string | undefined;
  stream: boolean;
  promptLogText: string | undefined;
  answerLogText: string | undefined;
  piiFound: string[] | undefined;
  predictedLabel: string | number | undefined;
  modelVersion: string | undefined;
  costMicros: number | undefined;
  guardFindings: unknown[] | undefined;
  /** Set on endpoints with a response cache: whether the cache answered. */
  cacheHit?: boolean | undefined;
}

export interface GatewayEnv {
  Variables: GatewayVariables;
}
