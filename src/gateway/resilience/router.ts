/**
 * The routing and resilience layer: which target serves a request, and what happens when it fails.
 *
 *   const router = createRouter({ onAttempt, onBreakerStateChange, onShadowResult, compare });
 *   validateRoute(route);                          // once, at config load (MP_CONFIG_INVALID)
 *   const { value, target, attempts, upstreamMs } = await router.execute(route,
 *     { signal, requestId, stickyKey },            // stickyKey pins a user to one target
 *     (target, context) => target.runtime.chat!({ ...body, model: target.model }, context));
 *   const { stream, target, firstChunkMs } = await router.executeStream(route,
 *     { signal, requestId, shadowCall: (t, c) => t.runtime.chat!({ ...body, stream: false, model: t.model }, c) },
 *     (target, context) => target.runtime.chatStream!({ ...body, model: target.model }, context));
 *   for await (const chunk of stream) …           // `break` releases the upstream
 *
 * Order of targets: the primary is drawn from `route.targets` by weight (deterministically from
 * `stickyKey` when given: weighted rendezvous hashing, see target-picker.ts). Then the other
 * positive-weight targets in list order (a canary that fails spills over to the stable target and
 * vice versa, instead of failing its share of traffic), then `route.fallbacks` in order. A target
 * whose circuit breaker refuses is skipped; when every target refuses (and none was tried), the
 * route fails with MP_CIRCUIT_OPEN naming the endpoint, with Retry-After from the shortest
 * remaining cooldown.
 *
 * Per target: up to `retry.maxAttempts` tries. Only a ModelportError with `isRetryable` is
 * retried, after `retryDelayMs` (full-jitter backoff, or the upstream's Retry-After; a Retry-After
 * above `maxRetryAfterMs` moves on to the next target at once). Any other error (a 400
 * MP_UPSTREAM_REJECTED, MP_INVALID_REQUEST, a foreign error wrapped as MP_INTERNAL) ends the route
 * immediately: another target would reject the same request. When every target fails, the last
 * error wins (its code, status, message and Retry-After), with `cause` an AggregateError holding
 * every attempt's error in order; a route with a single failed attempt throws that error itself.
 *
 * Timeouts: each attempt gets its own InvokeContext whose signal aborts when the caller's signal
 * aborts or the attempt's deadline passes. Runtimes enforce connect/first-byte from
 * `context.timeouts` themselves; the router enforces `totalMs` for `execute`, `firstByteMs` (or
 * `totalMs` if smaller) until a stream's first chunk, and `totalMs` over a whole stream, so a
 * runtime that ignores its signal cannot hold a request. A deadline is MP_UPSTREAM_TIMEOUT
 * (retryable: the next attempt or target is tried).
 *
 * Caller abort: stops at once, also during a backoff sleep, with the signal's reason when it is a
 * ModelportError (e.g. MP_SHUTTING_DOWN), a non-retryable MP_UPSTREAM_TIMEOUT when the reason is a
 * TimeoutError (a request deadline), MP_CLIENT_CLOSED otherwise.
 *
 * Streams: `executeStream` commits to a target only when its first chunk has arrived. Until then
 * a failure (start rejects, the iterator throws or ends, the first-chunk deadline passes) is a
 * failed attempt and is retried / falls back like any other. After the commit, errors reach the
 * consumer of `stream` and are not retried; the breaker counts them (retryable ones) as failures.
 *
 * Breakers: one per endpoint and target id, with the endpoint's settings. Successes and retryable failures (timeouts
 * included) are recorded; non-retryable errors and caller aborts record nothing. A stream records
 * its success at the first chunk.
 *
 * Shadows: at the first attempt, each `route.shadows` entry is sampled with `random() <
 * sampleRate`; sampled ones whose (separate, shadow-only) breaker allows it get the same call in
 * the background: `call` for `execute`, `context.shadowCall` (non-streaming) for `executeStream`,
 * which mirrors nothing without it. The caller never waits for a shadow. When both primary and
 * shadow have finished, `onShadowResult` receives `{ endpoint, target, requestId, latencyMs, ok,
 * errorCode?, diff?, primaryOk }`, `diff` from `context.compare ?? options.compare` (for streams
 * the primary value is the stream folded into a ChatCompletion, see stream-assembler.ts).
 * `close()` aborts in-flight shadows.
 *
 * Tracing: when `context.trace` is set (tracing enabled), each attempt is a child span of the
 * request, ended with the attempt's outcome, and its trace headers reach the runtime on
 * `InvokeContext.traceHeaders`. Without it the router allocates nothing for tracing.
 *
 * Hooks (`onAttempt`, `onBreakerStateChange`, `onShadowResult`) are optional, called
 * synchronously, and their exceptions are swallowed: they are for metrics and logs.
 * `random`, `clock`, `timers` and `sleep` are injectable so everything is testable without time.
 */
import { systemClock } from "../../core/clock.js";
import { ModelportError, toModelportError } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk } from "../../core/openai-types.js";
import type { ChatStream } from "../../core/runtime.js";
import type { AttemptTrace } from "../../monitoring/tracing/request-trace.js";
import { AttemptScope, callerAbortError, createSleep, raceWithSignal, systemTimers } from "./attempt-scope.js";
import { retryDelayMs } from "./backoff.js";
import { type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.js";
import { CommittedStream, releaseIterator } from "./committed-stream.js";
import type { EndpointRoute, RouteBreaker, RouteTarget } from "./route.js";
import type { AttemptEvent, ExecuteContext, Router, RouterOptions } from "./router-types.js";
import { type Compare, createShadowRunner, type ShadowSession, type TargetCall } from "./shadow-runner.js";
import { pickSticky, pickWeighted } from "./target-picker.js";

export type { BreakerState } from "./circuit-breaker.js";
export type { EndpointRoute, RouteBreaker, RouteRetry, RouteTarget, ShadowRoute } from "./route.js";
export { validateRoute } from "./route.js";
export type {
  AttemptEvent,
  BreakerStateEvent,
  ExecuteContext,
  ExecuteResult,
  Router,
  RouterOptions,
  StreamExecuteContext,
  StreamResult,
} from "./router-types.js";
export type { Compare, ShadowResult, TargetCall } from "./shadow-runner.js";

/** What one attempt produces; `run` returns it with the bookkeeping callers need. */
type Invoke<V, P> = (payload: P, target: RouteTarget, scope: AttemptScope) => Promise<V>;

interface Won<V> {
  value: V;
  target: RouteTarget;
  attempt: number;
  attempts: number;
  startedAt: number;
  latencyMs: number;
  scope: AttemptScope;
  breaker: CircuitBreaker;
  shadow: ShadowSession<unknown> | undefined;
}

interface OpenedStream {
  first: ChatCompletionChunk;
  iterator: AsyncIterator<ChatCompletionChunk>;
  source: ChatStream;
}

function invokeCall<T>(call: TargetCall<T>, target: RouteTarget, scope: AttemptScope): Promise<T> {
  return raceWithSignal(call(target, scope.context), scope.signal);
}

async function invokeStream(
  start: TargetCall<ChatStream>,
  target: RouteTarget,
  scope: AttemptScope,
): Promise<OpenedStream> {
  const starting = start(target, scope.context);
  let stream: ChatStream;
  try {
    stream = await raceWithSignal(starting, scope.signal);
  } catch (error) {
    // A stream that opens after we gave up must still be released.
    if (scope.signal.aborted) starting.then((late) => releaseIterator(late.chunks[Symbol.asyncIterator]()), noopCatch);
    throw error;
  }
  const iterator = stream.chunks[Symbol.asyncIterator]();
  let first: IteratorResult<ChatCompletionChunk>;
  try {
    first = await raceWithSignal(iterator.next(), scope.signal);
  } catch (error) {
    releaseIterator(iterator);
    throw error;
  }
  if (first.done) {
    throw new ModelportError("MP_UPSTREAM_BAD_RESPONSE", "the upstream stream ended before its first chunk");
  }
  return { first: first.value, iterator, source: stream };
}

function noopCatch(): void {}

/** The target at position `step` of the try order, or undefined for a step to skip. */
function targetAt(route: EndpointRoute, primaryIndex: number, step: number): RouteTarget | undefined {
  const targets = route.targets;
  if (step === 0) return targets[primaryIndex];
  if (step < targets.length) {
    const target = targets[step <= primaryIndex ? step - 1 : step];
    return target && target.weight > 0 ? target : undefined;
  }
  return route.fallbacks[step - targets.length];
}

function exhausted(route: EndpointRoute, errors: ModelportError[] | undefined, cooldownMs: number): ModelportError {
  if (!errors) {
    const options = Number.isFinite(cooldownMs) ? { retryAfterSeconds: Math.max(1, Math.ceil(cooldownMs / 1000)) } : {};
    return new ModelportError(
      "MP_CIRCUIT_OPEN",
      `endpoint "${route.name}" is unavailable: every target's circuit breaker is open`,
      options,
    );
  }
  const last = errors[errors.length - 1] as ModelportError;
  if (errors.length === 1) return last;
  return new ModelportError(last.code, last.message, {
    status: last.status,
    retryable: last.isRetryable,
    param: last.param,
    retryAfterSeconds: last.retryAfterSeconds,
    cause: new AggregateError(errors, `endpoint "${route.name}": all ${errors.length} attempts failed`),
  });
}

/**
 * Breakers are kept per endpoint and target: each endpoint configures its own thresholds, and one
 * endpoint's failures (say, requests too large for a model) must not close a target for others.
 */
function breakerKey(endpoint: string, targetId: string): string {
  return `${endpoint}\u0000${targetId}`;
}

export function createRouter(options: RouterOptions = {}): Router {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const timers = options.timers ?? systemTimers;
  const sleep = options.sleep ?? createSleep(timers);
  const { onAttempt, onBreakerStateChange } = options;
  const breakers = new Map<string, CircuitBreaker>();
  const shadowBreakers = new Map<string, CircuitBreaker>();
  const closeController = new AbortController();

  function makeBreaker(
    map: Map<string, CircuitBreaker>,
    endpoint: string,
    target: RouteTarget,
    settings: RouteBreaker,
    shadow: boolean,
  ) {
    const key = breakerKey(endpoint, target.id);
    let breaker = map.get(key);
    if (breaker) return breaker;
    const id = target.id;
    breaker = createCircuitBreaker({
      ...settings,
      clock,
      onStateChange: onBreakerStateChange
        ? (to, from) => {
            try {
              onBreakerStateChange({ endpoint, target: id, from, to, shadow });
            } catch {
              // observers must not break routing
            }
          }
        : undefined,
    });
    map.set(key, breaker);
    return breaker;
  }

  const shadows = createShadowRunner({
    clock,
    timers,
    random,
    breakerFor: (endpoint, target, settings) => makeBreaker(shadowBreakers, endpoint, target, settings, true),
    onResult: options.onShadowResult,
    closeSignal: closeController.signal,
  });

  function emitAttempt(
    route: EndpointRoute,
    target: RouteTarget,
    attempt: number,
    latencyMs: number,
    error: ModelportError | undefined,
    phase: "call" | "stream",
    traced?: AttemptTrace,
  ): void {
    traced?.end(error);
    if (!onAttempt) return;
    const event: AttemptEvent = { endpoint: route.name, target: target.id, attempt, ok: !error, latencyMs, phase };
    if (error) event.errorCode = error.code;
    try {
      onAttempt(event);
    } catch {
      // observers must not break routing
    }
  }

  async function run<V, P>(
    route: EndpointRoute,
    context: ExecuteContext<never>,
    invoke: Invoke<V, P>,
    payload: P,
    deadlineMs: number,
    deadlineWhat: string,
    keepScope: boolean,
    shadowCall: TargetCall<unknown> | undefined,
    compare: Compare<unknown> | undefined,
  ): Promise<Won<V>> {
    const signal = context.signal;
    if (signal.aborted) throw callerAbortError(signal);
    const targets = route.targets;
    const primaryIndex =
      context.stickyKey === undefined ? pickWeighted(targets, random) : pickSticky(targets, context.stickyKey);
    const steps = targets.length + route.fallbacks.length;
    const maxAttempts = route.retry.maxAttempts;
    let attempts = 0;
    let errors: ModelportError[] | undefined;
    let shadow: ShadowSession<unknown> | undefined;
    let shadowsFired = false;
    let cooldownMs = Number.POSITIVE_INFINITY;
    try {
      for (let step = 0; step < steps; step++) {
        const target = targetAt(route, primaryIndex, step);
        if (!target) continue;
        const breaker = makeBreaker(breakers, route.name, target, route.breaker, false);
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          if (!breaker.tryAcquire()) {
            cooldownMs = Math.min(cooldownMs, breaker.remainingCooldownMs);
            break;
          }
          if (!shadowsFired) {
            shadowsFired = true;
            if (shadowCall) shadow = shadows.fire(route, context.requestId, shadowCall, compare);
          }
          attempts++;
          const scope = new AttemptScope(signal, timers, context.requestId, route.timeouts);
          // Tracing on: this attempt is a child span of the request, and the runtime learns its traceparent.
          const traced = context.trace?.startAttempt({
            endpoint: route.name,
            target: target.id,
            attempt,
            fallback: step > 0,
          });
          if (traced) scope.context.traceHeaders = traced.headers;
          scope.arm(deadlineMs, deadlineWhat);
          const startedAt = clock.monotonic();
          let thrown: unknown;
          try {
            const value = await invoke(payload, target, scope);
            const latencyMs = clock.monotonic() - startedAt;
            if (!keepScope) scope.dispose();
            breaker.recordSuccess();
            emitAttempt(route, target, attempt, latencyMs, undefined, "call", traced);
            return { value, target, attempt, attempts, startedAt, latencyMs, scope, breaker, shadow };
          } catch (error) {
            scope.dispose();
            thrown = error;
          }
          const latencyMs = clock.monotonic() - startedAt;
          if (signal.aborted) {
            breaker.release();
            const error = callerAbortError(signal);
            emitAttempt(route, target, attempt, latencyMs, error, "call", traced);
            throw error;
          }
          const error = scope.timeoutError ?? toModelportError(thrown);
          emitAttempt(route, target, attempt, latencyMs, error, "call", traced);
          if (!error.isRetryable) {
            breaker.release();
            throw error;
          }
          breaker.recordFailure();
          errors ??= [];
          errors.push(error);
          if (attempt === maxAttempts) break;
          const delayMs = retryDelayMs(error, attempt, route.retry, random);
          if (delayMs === undefined) break;
          if (delayMs > 0) {
            try {
              await sleep(delayMs, signal);
            } catch (sleepError) {
              throw signal.aborted ? callerAbortError(signal) : toModelportError(sleepError);
            }
          }
        }
      }
      throw exhausted(route, errors, cooldownMs);
    } catch (error) {
      shadow?.primaryFinished(false);
      throw error;
    }
  }

  return {
    async execute<T>(route: EndpointRoute, context: ExecuteContext<T>, call: TargetCall<T>) {
      const compare = (context.compare ?? options.compare) as Compare<unknown> | undefined;
      const won = await run(
        route,
        context as ExecuteContext<never>,
        invokeCall as Invoke<T, TargetCall<T>>,
        call,
        route.timeouts.totalMs,
        "did not answer",
        false,
        route.shadows.length > 0 ? (call as TargetCall<unknown>) : undefined,
        compare,
      );
      won.shadow?.primaryFinished(true, won.value);
      return { value: won.value, target: won.target, attempts: won.attempts, upstreamMs: won.latencyMs };
    },

    async executeStream(route, context, start) {
      const { firstByteMs, totalMs } = route.timeouts;
      const compare = (context.compare ?? options.compare) as Compare<unknown> | undefined;
      const won = await run(
        route,
        context as ExecuteContext<never>,
        invokeStream,
        start,
        Math.min(firstByteMs, totalMs),
        "sent no first chunk",
        true,
        route.shadows.length > 0 ? (context.shadowCall as TargetCall<unknown> | undefined) : undefined,
        compare,
      );
      // The first chunk is in: the rest of the stream gets what is left of the total deadline.
      won.scope.arm(Math.max(0, totalMs - won.latencyMs), "did not finish the stream");
      const { target, attempt, startedAt } = won;
      const onError = onAttempt
        ? (error: ModelportError) => emitAttempt(route, target, attempt, clock.monotonic() - startedAt, error, "stream")
        : undefined;
      const stream = new CommittedStream(
        won.value.first,
        won.value.iterator,
        won.scope,
        won.breaker,
        context.signal,
        won.shadow as ShadowSession<ChatCompletion> | undefined,
        onError,
      );
      const source = won.value.source;
      return {
        stream,
        target,
        attempts: won.attempts,
        firstChunkMs: won.latencyMs,
        usage: () => source.usage?.(),
      };
    },

    breakerState(endpoint: string, targetId: string) {
      return breakers.get(breakerKey(endpoint, targetId))?.state ?? "closed";
    },

    close() {
      closeController.abort(new ModelportError("MP_SHUTTING_DOWN", "the router is closing"));
    },
  };
}
