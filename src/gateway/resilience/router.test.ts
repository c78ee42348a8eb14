import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import { type AttemptEvent, type BreakerStateEvent, createRouter, type RouterOptions } from "./router.js";
import { createFakeTime, settle } from "./testing/fake-time.js";
import {
  callChat,
  completion,
  FakeUpstream,
  makeRoute,
  never,
  retryable,
  seededRandom,
  target,
} from "./testing/fake-upstream.js";

const ok = (text: string) => new FakeUpstream({ chat: async () => completion(text) });
const failing = (error: () => ModelportError) =>
  new FakeUpstream({
    chat: async () => {
      throw error();
    },
  });
const context = (extra: { stickyKey?: string; signal?: AbortSignal } = {}) => ({
  signal: new AbortController().signal,
  requestId: "req_test",
  ...extra,
});
const hasCode = (code: string) => (error: unknown) => error instanceof ModelportError && error.code === code;

function routerWith(options: RouterOptions = {}) {
  const time = createFakeTime();
  const sleeps: number[] = [];
  const attempts: AttemptEvent[] = [];
  const breakerEvents: BreakerStateEvent[] = [];
  const router = createRouter({
    clock: time.clock,
    timers: time.timers,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onAttempt: (event) => attempts.push(event),
    onBreakerStateChange: (event) => breakerEvents.push(event),
    ...options,
  });
  return { router, time, sleeps, attempts, breakerEvents };
}

describe("router.execute: choosing a target", () => {
  it("splits traffic by weight (canary) within tolerance", async () => {
    const { router } = routerWith({ random: seededRandom(11) });
    const stable = ok("stable");
    const canary = ok("canary");
    const route = makeRoute({ targets: [target("p/stable", stable, 90), target("p/canary", canary, 10)] });
    const counts = new Map<string, number>();
    for (let index = 0; index < 2_000; index++) {
      const result = await router.execute(route, context(), callChat);
      counts.set(result.target.id, (counts.get(result.target.id) ?? 0) + 1);
      assert.equal(result.value.choices[0]?.message.content, result.target.id === "p/stable" ? "stable" : "canary");
    }
    const canaryShare = (counts.get("p/canary") ?? 0) / 2_000;
    assert.ok(Math.abs(canaryShare - 0.1) < 0.025, `canary share ${canaryShare}`);
    assert.equal(stable.chatCalls + canary.chatCalls, 2_000);
  });

  it("pins a sticky key to one target while different keys spread", async () => {
    const { router } = routerWith({ random: seededRandom(3) });
    const route = makeRoute({ targets: [target("p/a", ok("a"), 50), target("p/b", ok("b"), 50)] });
    const first = await router.execute(route, context({ stickyKey: "tenant-1:user-7" }), callChat);
    for (let index = 0; index < 50; index++) {
      const again = await router.execute(route, context({ stickyKey: "tenant-1:user-7" }), callChat);
      assert.equal(again.target.id, first.target.id);
    }
    const seen = new Set<string>();
    for (let index = 0; index < 50; index++) {
      seen.add((await router.execute(route, context({ stickyKey: `user-${index}` }), callChat)).target.id);
    }
    assert.deepEqual([...seen].sort(), ["p/a", "p/b"]);
  });

  it("reports the attempt count and the successful attempt's duration", async () => {
    const { router, time } = routerWith();
    const slow = new FakeUpstream({
      chat: async () => {
        await time.advance(250); // the upstream takes 250 ms of (fake) time
        return completion("x");
      },
    });
    const route = makeRoute({ targets: [target("p/a", slow)] });
    const result = await router.execute(route, context(), callChat);
    assert.equal(result.attempts, 1);
    assert.equal(result.upstreamMs, 250);
    assert.equal(slow.contexts[0]?.requestId, "req_test");
    assert.deepEqual(slow.contexts[0]?.timeouts, route.timeouts);
  });

  it("rejects a route whose weights are all zero with MP_CONFIG_INVALID", async () => {
    const { router } = routerWith();
    const route = makeRoute({ targets: [target("p/a", ok("a"), 0)] });
    await assert.rejects(router.execute(route, context(), callChat), hasCode("MP_CONFIG_INVALID"));
  });
});

describe("router.execute: retries and fallbacks", () => {
  it("retries a retryable error, then falls back, with backoff delays from the injected sleep", async () => {
    const { router, sleeps, attempts } = routerWith();
    const primary = failing(() => retryable());
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", backup)],
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    const result = await router.execute(route, context(), callChat);
    assert.equal(result.target.id, "p/backup");
    assert.equal(result.attempts, 5);
    assert.equal(primary.chatCalls, 4);
    // full jitter with random() = 0.5: half of 100, 200, 400
    assert.deepEqual(sleeps, [50, 100, 200]);
    assert.deepEqual(
      attempts.map((event) => `${event.target}#${event.attempt}:${event.errorCode ?? "ok"}`),
      [
        "p/primary#1:MP_UPSTREAM_UNAVAILABLE",
        "p/primary#2:MP_UPSTREAM_UNAVAILABLE",
        "p/primary#3:MP_UPSTREAM_UNAVAILABLE",
        "p/primary#4:MP_UPSTREAM_UNAVAILABLE",
        "p/backup#1:ok",
      ],
    );
  });

  it("returns a non-retryable error at once, without retry or fallback", async () => {
    const { router, sleeps } = routerWith();
    const primary = failing(() => new ModelportError("MP_UPSTREAM_REJECTED", "bad request", { status: 400 }));
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", backup)],
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    await assert.rejects(router.execute(route, context(), callChat), hasCode("MP_UPSTREAM_REJECTED"));
    assert.equal(primary.chatCalls, 1);
    assert.equal(backup.chatCalls, 0);
    assert.deepEqual(sleeps, []);
  });

  it("wraps a foreign error as non-retryable MP_INTERNAL, keeping it as cause", async () => {
    const { router } = routerWith();
    const boom = new TypeError("bug");
    const primary = new FakeUpstream({
      chat: async () => {
        throw boom;
      },
    });
    const backup = ok("backup");
    const route = makeRoute({ targets: [target("p/primary", primary)], fallbacks: [target("p/backup", backup)] });
    await assert.rejects(
      router.execute(route, context(), callChat),
      (error: unknown) => hasCode("MP_INTERNAL")(error) && (error as Error).cause === boom,
    );
    assert.equal(backup.chatCalls, 0);
  });

  it("honours Retry-After within the cap", async () => {
    const { router, sleeps } = routerWith();
    const primary = new FakeUpstream({
      chat: async (call) => {
        if (call === 1) throw new ModelportError("MP_UPSTREAM_RATE_LIMITED", "slow down", { retryAfterSeconds: 2 });
        return completion("second try");
      },
    });
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    const result = await router.execute(route, context(), callChat);
    assert.equal(result.value.choices[0]?.message.content, "second try");
    assert.deepEqual(sleeps, [2_000]);
  });

  it("moves to the fallback at once when Retry-After exceeds the cap", async () => {
    const { router, sleeps } = routerWith();
    const primary = failing(
      () => new ModelportError("MP_UPSTREAM_RATE_LIMITED", "come back in a minute", { retryAfterSeconds: 60 }),
    );
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", backup)],
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    const result = await router.execute(route, context(), callChat);
    assert.equal(result.target.id, "p/backup");
    assert.equal(primary.chatCalls, 1);
    assert.deepEqual(sleeps, []);
  });

  it("spills over to the other weighted target before the fallbacks", async () => {
    const { router } = routerWith({ random: () => 0 }); // always draws the first target
    const stable = failing(() => retryable());
    const canary = ok("canary");
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/stable", stable, 90), target("p/canary", canary, 10)],
      fallbacks: [target("p/backup", backup)],
    });
    const result = await router.execute(route, context(), callChat);
    assert.equal(result.target.id, "p/canary");
    assert.equal(backup.chatCalls, 0);
  });

  it("never spills over to a zero-weight (drained) target", async () => {
    const { router } = routerWith();
    const drained = ok("drained");
    const route = makeRoute({
      targets: [
        target(
          "p/live",
          failing(() => retryable()),
        ),
        target("p/drained", drained, 0),
      ],
      fallbacks: [target("p/backup", ok("backup"))],
    });
    assert.equal((await router.execute(route, context(), callChat)).target.id, "p/backup");
    assert.equal(drained.chatCalls, 0);
  });

  it("throws the last error, with every attempt's error in an AggregateError cause", async () => {
    const { router } = routerWith();
    const route = makeRoute({
      targets: [
        target(
          "p/a",
          failing(() => retryable("a is down")),
        ),
      ],
      fallbacks: [
        target(
          "p/b",
          failing(() => new ModelportError("MP_UPSTREAM_RATE_LIMITED", "b is busy", { retryAfterSeconds: 9 })),
        ),
      ],
      retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 1_000 },
    });
    await assert.rejects(router.execute(route, context(), callChat), (error: unknown) => {
      assert.ok(error instanceof ModelportError);
      assert.equal(error.code, "MP_UPSTREAM_RATE_LIMITED");
      assert.equal(error.message, "b is busy");
      assert.equal(error.retryAfterSeconds, 9);
      assert.equal(error.status, 429);
      assert.ok(error.cause instanceof AggregateError);
      assert.deepEqual(
        error.cause.errors.map((inner: ModelportError) => inner.message),
        ["a is down", "a is down", "b is busy"],
      );
      return true;
    });
  });
});

describe("router.execute: timeouts and aborts", () => {
  it("enforces totalMs on a hanging call, aborting its signal and falling back", async () => {
    const { router, time, attempts } = routerWith();
    const hanging = new FakeUpstream({ chat: () => never() });
    const backup = ok("backup");
    const route = makeRoute({ targets: [target("p/hang", hanging)], fallbacks: [target("p/backup", backup)] });
    const pending = router.execute(route, context(), callChat);
    await settle();
    assert.equal(hanging.chatCalls, 1);
    assert.equal(backup.chatCalls, 0);
    await time.advance(9_999);
    assert.equal(backup.chatCalls, 0, "not before the deadline");
    await time.advance(1);
    const result = await pending;
    assert.equal(result.target.id, "p/backup");
    assert.equal(hanging.contexts[0]?.signal.aborted, true, "the runtime is told to stop");
    assert.equal(attempts[0]?.errorCode, "MP_UPSTREAM_TIMEOUT");
    assert.equal(attempts[0]?.latencyMs, 10_000);
    assert.equal(time.pendingTimers(), 0, "no timer left behind");
  });

  it("fails with MP_UPSTREAM_TIMEOUT when every attempt times out", async () => {
    const { router, time } = routerWith();
    const route = makeRoute({ targets: [target("p/hang", new FakeUpstream({ chat: () => never() }))] });
    const pending = router.execute(route, context(), callChat);
    const assertion = assert.rejects(pending, (error: unknown) => {
      assert.ok(hasCode("MP_UPSTREAM_TIMEOUT")(error));
      assert.match((error as Error).message, /10000 ms/);
      return true;
    });
    await time.advance(10_000);
    await assertion;
  });

  it("stops retrying promptly when the caller aborts during a backoff", async () => {
    const controller = new AbortController();
    const { router } = routerWith({
      sleep: (_ms, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    });
    const primary = failing(() => retryable());
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", backup)],
      retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    const pending = router.execute(route, context({ signal: controller.signal }), callChat);
    await settle();
    assert.equal(primary.chatCalls, 1);
    controller.abort();
    await assert.rejects(pending, hasCode("MP_CLIENT_CLOSED"));
    assert.equal(primary.chatCalls, 1);
    assert.equal(backup.chatCalls, 0);
  });

  it("stops a call in flight when the caller aborts, passing a ModelportError reason through", async () => {
    const controller = new AbortController();
    const { router } = routerWith();
    const hanging = new FakeUpstream({ chat: () => never() });
    const backup = ok("backup");
    const route = makeRoute({ targets: [target("p/hang", hanging)], fallbacks: [target("p/backup", backup)] });
    const pending = router.execute(route, context({ signal: controller.signal }), callChat);
    await settle();
    const draining = new ModelportError("MP_SHUTTING_DOWN", "draining");
    controller.abort(draining);
    await assert.rejects(pending, (error) => error === draining);
    assert.equal(hanging.contexts[0]?.signal.aborted, true);
    assert.equal(backup.chatCalls, 0);
    assert.equal(router.breakerState("chat-small", "p/hang"), "closed", "an abort is not the target's fault");
  });

  it("rejects at once when the caller's signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const { router } = routerWith();
    const upstream = ok("x");
    const route = makeRoute({ targets: [target("p/a", upstream)] });
    await assert.rejects(
      router.execute(route, context({ signal: controller.signal }), callChat),
      hasCode("MP_CLIENT_CLOSED"),
    );
    assert.equal(upstream.chatCalls, 0);
  });
});

describe("router.execute: circuit breakers", () => {
  const breaker = { failureThreshold: 2, cooldownMs: 1_000, halfOpenMaxRequests: 1 };

  it("opens after the threshold and skips the target until the cooldown ends, then probes once", async () => {
    const { router, time, breakerEvents } = routerWith();
    let healthy = false;
    const primary = new FakeUpstream({
      chat: async () => {
        if (!healthy) throw retryable();
        return completion("recovered");
      },
    });
    const backup = ok("backup");
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", backup)],
      breaker,
    });

    await router.execute(route, context(), callChat);
    assert.equal(router.breakerState("chat-small", "p/primary"), "closed");
    await router.execute(route, context(), callChat);
    assert.equal(router.breakerState("chat-small", "p/primary"), "open");
    assert.equal(primary.chatCalls, 2);

    const skipped = await router.execute(route, context(), callChat);
    assert.equal(skipped.target.id, "p/backup");
    assert.equal(skipped.attempts, 1, "an open target costs no attempt");
    assert.equal(primary.chatCalls, 2);

    await time.advance(1_000);
    assert.equal(router.breakerState("chat-small", "p/primary"), "half-open");
    healthy = true;
    const probed = await router.execute(route, context(), callChat);
    assert.equal(probed.target.id, "p/primary");
    assert.equal(router.breakerState("chat-small", "p/primary"), "closed");
    assert.deepEqual(
      breakerEvents.map((event) => `${event.target}:${event.from}->${event.to}`),
      ["p/primary:closed->open", "p/primary:open->half-open", "p/primary:half-open->closed"],
    );
    assert.ok(breakerEvents.every((event) => !event.shadow));
  });

  it("reopens when the half-open probe fails", async () => {
    const { router, time } = routerWith();
    const primary = failing(() => retryable());
    const route = makeRoute({
      targets: [target("p/primary", primary)],
      fallbacks: [target("p/backup", ok("b"))],
      breaker,
    });
    await router.execute(route, context(), callChat);
    await router.execute(route, context(), callChat);
    await time.advance(1_000);
    await router.execute(route, context(), callChat);
    assert.equal(primary.chatCalls, 3, "one probe");
    assert.equal(router.breakerState("chat-small", "p/primary"), "open");
  });

  it("counts timeouts as failures but not non-retryable errors", async () => {
    const { router, time } = routerWith();
    const rejected = failing(() => new ModelportError("MP_UPSTREAM_REJECTED", "400"));
    const rejectRoute = makeRoute({ targets: [target("p/rejects", rejected)], breaker });
    for (let index = 0; index < 5; index++) await assert.rejects(router.execute(rejectRoute, context(), callChat));
    assert.equal(router.breakerState("chat-small", "p/rejects"), "closed");

    const hangRoute = makeRoute({ targets: [target("p/hangs", new FakeUpstream({ chat: () => never() }))], breaker });
    for (let index = 0; index < 2; index++) {
      const pending = assert.rejects(router.execute(hangRoute, context(), callChat), hasCode("MP_UPSTREAM_TIMEOUT"));
      await time.advance(10_000);
      await pending;
    }
    assert.equal(router.breakerState("chat-small", "p/hangs"), "open");
  });

  it("fails with MP_CIRCUIT_OPEN naming the endpoint when every breaker is open", async () => {
    const { router, time } = routerWith();
    const route = makeRoute({
      targets: [
        target(
          "p/a",
          failing(() => retryable()),
        ),
      ],
      fallbacks: [
        target(
          "p/b",
          failing(() => retryable()),
        ),
      ],
      breaker: { ...breaker, failureThreshold: 1 },
    });
    await assert.rejects(router.execute(route, context(), callChat), hasCode("MP_UPSTREAM_UNAVAILABLE"));
    await time.advance(200);
    await assert.rejects(router.execute(route, context(), callChat), (error: unknown) => {
      assert.ok(hasCode("MP_CIRCUIT_OPEN")(error));
      assert.match((error as Error).message, /"chat-small"/);
      assert.equal((error as ModelportError).retryAfterSeconds, 1, "from the shortest remaining cooldown (800 ms)");
      return true;
    });
  });

  it("keeps one breaker per endpoint and target: one endpoint's failures do not open another's", async () => {
    const { router } = routerWith();
    const shared = failing(() => retryable());
    const one = makeRoute({
      name: "one",
      targets: [target("p/shared", shared)],
      breaker: { ...breaker, failureThreshold: 1 },
    });
    const two = makeRoute({ name: "two", targets: [target("p/shared", shared)], fallbacks: [target("p/x", ok("x"))] });
    await assert.rejects(router.execute(one, context(), callChat));
    assert.equal(router.breakerState("one", "p/shared"), "open");
    assert.equal(router.breakerState("two", "p/shared"), "closed");
    assert.equal((await router.execute(two, context(), callChat)).target.id, "p/x", "two still tries the target");
    assert.equal(shared.chatCalls, 2, "one call from each endpoint");
    assert.equal(router.breakerState("two", "p/never-used"), "closed");
  });

  it("keeps routing when a hook throws", async () => {
    const { router } = routerWith({
      onAttempt: () => {
        throw new Error("metrics down");
      },
      onBreakerStateChange: () => {
        throw new Error("metrics down");
      },
    });
    const route = makeRoute({
      targets: [
        target(
          "p/a",
          failing(() => retryable()),
        ),
      ],
      fallbacks: [target("p/b", ok("b"))],
      breaker: { ...breaker, failureThreshold: 1 },
    });
    assert.equal((await router.execute(route, context(), callChat)).target.id, "p/b");
    assert.equal(router.breakerState("chat-small", "p/a"), "open");
  });
});
