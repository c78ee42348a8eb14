import type { Clock } from "../../core/clock.js";
import type { ErrorCode } from "../../core/error-codes.js";
import { ModelportError } from "../../core/errors.js";
import type { InvokeContext } from "../../core/runtime.js";
import { AttemptScope, raceWithSignal, type Timers } from "./attempt-scope.js";
import type { CircuitBreaker } from "./circuit-breaker.js";
import type { EndpointRoute, RouteBreaker, RouteTarget } from "./route.js";

/**
 * Shadow (mirrored) traffic: a sampled copy of a request goes to a shadow target in the
 * background, so a candidate model can be measured on real traffic without touching the answer.
 * The caller never awaits a shadow; its errors are swallowed into a report; it runs under its own
 * total timeout and is not tied to the caller's signal (a client hanging up early should not
 * censor the comparison). Shadows have their own breakers, separate from the routing ones, so a
 * failing shadow never takes traffic away from a primary that shares its target id, and an open
 * shadow breaker skips the mirror.
 *
 * When both the primary and a shadow have finished, `onResult` gets one ShadowResult, with `diff`
 * from `compare(primaryValue, shadowValue)` when both succeeded.
 */
export interface ShadowResult {
  endpoint: string;
  /** The shadow target's id. */
  target: string;
  requestId: string;
  /** Shadow call duration. */
  latencyMs: number;
  ok: boolean;
  errorCode?: ErrorCode;
  /** 0 = same … 1 = entirely different; set when both calls succeeded and `compare` did not throw. */
  diff?: number;
  /** Whether the primary route succeeded (for streams: the stream ran to its end). */
  primaryOk: boolean;
}

export type TargetCall<T> = (target: RouteTarget, context: InvokeContext) => Promise<T>;
export type Compare<T> = (primary: T, shadow: T) => number;

export interface ShadowSession<T> {
  /** Whether the primary's value is needed (a compare function is set). */
  readonly wantsPrimaryValue: boolean;
  /** Call once, when the primary route has settled. */
  primaryFinished(ok: boolean, value?: T): void;
}

interface FinishedShadow<T> {
  target: string;
  latencyMs: number;
  ok: boolean;
  errorCode: ErrorCode | undefined;
  value: T | undefined;
}

class Session<T> implements ShadowSession<T> {
  private primaryState: "pending" | "ok" | "failed" = "pending";
  private primaryValue: T | undefined;
  private readonly waiting: FinishedShadow<T>[] = [];

  constructor(
    private readonly endpoint: string,
    private readonly requestId: string,
    private readonly compare: Compare<T> | undefined,
    private readonly onResult: ((result: ShadowResult) => void) | undefined,
  ) {}

  get wantsPrimaryValue(): boolean {
    return this.compare !== undefined;
  }

  primaryFinished(ok: boolean, value?: T): void {
    if (this.primaryState !== "pending") return;
    this.primaryState = ok ? "ok" : "failed";
    this.primaryValue = value;
    for (const shadow of this.waiting) this.report(shadow);
    this.waiting.length = 0;
  }

  shadowFinished(shadow: FinishedShadow<T>): void {
    if (this.primaryState === "pending") this.waiting.push(shadow);
    else this.report(shadow);
  }

  private report(shadow: FinishedShadow<T>): void {
    if (!this.onResult) return;
    const primaryOk = this.primaryState === "ok";
    const result: ShadowResult = {
      endpoint: this.endpoint,
      target: shadow.target,
      requestId: this.requestId,
      latencyMs: shadow.latencyMs,
      ok: shadow.ok,
      primaryOk,
    };
    if (shadow.errorCode !== undefined) result.errorCode = shadow.errorCode;
    if (shadow.ok && primaryOk && this.compare) {
      try {
        result.diff = this.compare(this.primaryValue as T, shadow.value as T);
      } catch {
        // A buggy compare must not break reporting; the result simply carries no diff.
      }
    }
    try {
      this.onResult(result);
    } catch {
      // Hooks are observers; their failures stay theirs.
    }
  }
}

export interface ShadowRunnerOptions {
  clock: Clock;
  timers: Timers;
  random: () => number;
  /** The shadow breaker for a target (separate from routing breakers). */
  breakerFor(endpoint: string, target: RouteTarget, settings: RouteBreaker): CircuitBreaker;
  onResult: ((result: ShadowResult) => void) | undefined;
  /** Aborted when the router closes: in-flight shadows stop. */
  closeSignal: AbortSignal;
}

export interface ShadowRunner {
  /** Samples the route's shadows and starts the chosen ones; undefined when none was started. */
  fire<T>(
    route: EndpointRoute,
    requestId: string,
    call: TargetCall<T>,
    compare: Compare<T> | undefined,
  ): ShadowSession<T> | undefined;
}

export function createShadowRunner(options: ShadowRunnerOptions): ShadowRunner {
  const { clock, timers, random, closeSignal } = options;

  function start<T>(
    session: Session<T>,
    route: EndpointRoute,
    target: RouteTarget,
    breaker: CircuitBreaker,
    requestId: string,
    call: TargetCall<T>,
  ): void {
    const scope = new AttemptScope(closeSignal, timers, requestId, route.timeouts);
    scope.arm(route.timeouts.totalMs, "did not answer", "shadow");
    const startedAt = clock.monotonic();
    // Deferred to a microtask so the shadow's synchronous work runs after the primary call began.
    const running = Promise.resolve().then(() => call(target, scope.context));
    raceWithSignal(running, scope.signal).then(
      (value) => {
        scope.dispose();
        breaker.recordSuccess();
        session.shadowFinished({
          target: target.id,
          latencyMs: clock.monotonic() - startedAt,
          ok: true,
          errorCode: undefined,
          value: session.wantsPrimaryValue ? value : undefined,
        });
      },
      (thrown: unknown) => {
        scope.dispose();
        const error = scope.timeoutError ?? thrown;
        const retryable = error instanceof ModelportError && error.isRetryable && !closeSignal.aborted;
        if (retryable) breaker.recordFailure();
        else breaker.release();
        session.shadowFinished({
          target: target.id,
          latencyMs: clock.monotonic() - startedAt,
          ok: false,
          errorCode: error instanceof ModelportError ? error.code : "MP_INTERNAL",
          value: undefined,
        });
      },
    );
  }

  function fire<T>(
    route: EndpointRoute,
    requestId: string,
    call: TargetCall<T>,
    compare: Compare<T> | undefined,
  ): ShadowSession<T> | undefined {
    const shadows = route.shadows;
    if (shadows.length === 0 || closeSignal.aborted) return undefined;
    let session: Session<T> | undefined;
    for (let index = 0; index < shadows.length; index++) {
      const shadow = shadows[index];
      if (!shadow || !(random() < shadow.sampleRate)) continue;
      const breaker = options.breakerFor(route.name, shadow.target, route.breaker);
      if (!breaker.tryAcquire()) continue;
      session ??= new Session<T>(route.name, requestId, compare, options.onResult);
      start(session, route, shadow.target, breaker, requestId, call);
    }
    return session;
  }

  return { fire };
}
