import type { Clock } from "../../core/clock.js";
import type { ErrorCode } from "../../core/error-codes.js";
import type { ChatCompletion, ChatCompletionChunk, CompletionUsage } from "../../core/openai-types.js";
import type { ChatStream } from "../../core/runtime.js";
import type { RequestTrace } from "../../monitoring/tracing/request-trace.js";
import type { Sleep, Timers } from "./attempt-scope.js";
import type { BreakerState } from "./circuit-breaker.js";
import type { EndpointRoute, RouteTarget } from "./route.js";
import type { Compare, ShadowResult, TargetCall } from "./shadow-runner.js";

/** The router's public types; the behaviour is documented at the top of router.ts. */
export interface AttemptEvent {
  endpoint: string;
  target: string;
  /** 1-based try number on this target. */
  attempt: number;
  ok: boolean;
  errorCode?: ErrorCode;
  latencyMs: number;
  /** "call": the attempt itself (for streams: up to the first chunk); "stream": a committed stream failed later. */
  phase: "call" | "stream";
}

export interface BreakerStateEvent {
  endpoint: string;
  target: string;
  from: BreakerState;
  to: BreakerState;
  /** True for the breakers that guard shadow traffic. */
  shadow: boolean;
}

export interface RouterOptions {
  clock?: Clock;
  /** Uniform in [0, 1): weighted picks, jitter, shadow sampling. Default Math.random. */
  random?: () => number;
  timers?: Timers;
  /** Backoff waits; must reject promptly when the signal aborts. Default: `timers`-based. */
  sleep?: Sleep;
  onAttempt?: (event: AttemptEvent) => void;
  onBreakerStateChange?: (event: BreakerStateEvent) => void;
  onShadowResult?: (result: ShadowResult) => void;
  /** Default shadow comparison, 0 = same … 1 = entirely different. */
  compare?: (primary: unknown, shadow: unknown) => number;
}

export interface ExecuteContext<T> {
  signal: AbortSignal;
  requestId: string;
  /** Pins the choice among weighted targets (e.g. tenant + user). */
  stickyKey?: string;
  /** Shadow comparison for this call; overrides RouterOptions.compare. */
  compare?: Compare<T>;
  /** The request's trace when tracing is on: each attempt becomes a child span, its traceparent sent upstream. */
  trace?: RequestTrace | undefined;
}

export interface StreamExecuteContext extends ExecuteContext<ChatCompletion> {
  /** The non-streaming call mirrored to shadow targets; without it a stream has no shadows. */
  shadowCall?: TargetCall<ChatCompletion>;
}

export interface ExecuteResult<T> {
  value: T;
  target: RouteTarget;
  /** Attempts over all targets, the successful one included. */
  attempts: number;
  /** Duration of the successful attempt (backoff and failed attempts excluded). */
  upstreamMs: number;
}

export interface StreamResult {
  stream: AsyncIterableIterator<ChatCompletionChunk>;
  target: RouteTarget;
  attempts: number;
  /** From the start of the successful attempt to its first chunk. */
  firstChunkMs: number;
  /** The stream's token usage once it has ended, when the runtime knows it (see ChatStream.usage). */
  usage: () => CompletionUsage | undefined;
}

export interface Router {
  execute<T>(route: EndpointRoute, context: ExecuteContext<T>, call: TargetCall<T>): Promise<ExecuteResult<T>>;
  executeStream(
    route: EndpointRoute,
    context: StreamExecuteContext,
    start: TargetCall<ChatStream>,
  ): Promise<StreamResult>;
  /** State of an endpoint's breaker for a target ("closed" for targets never used). */
  breakerState(endpoint: string, targetId: string): BreakerState;
  /** Aborts in-flight shadow calls and starts no new ones. */
  close(): void;
}
