import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletion } from "../../core/openai-types.js";
import { type BreakerStateEvent, createRouter, type ShadowResult } from "./router.js";
import { createFakeTime, settle } from "./testing/fake-time.js";
import {
  callChat,
  completion,
  FakeUpstream,
  makeRoute,
  never,
  retryable,
  scriptedStream,
  seededRandom,
  startChatStream,
  target,
} from "./testing/fake-upstream.js";

const context = () => ({ signal: new AbortController().signal, requestId: "req_shadow" });
const text = (value: ChatCompletion) => value.choices[0]?.message.content;
const compareText = (primary: ChatCompletion, shadow: ChatCompletion) => (text(primary) === text(shadow) ? 0 : 1);

function setup(random: () => number = () => 0) {
  const time = createFakeTime();
  const results: ShadowResult[] = [];
  const breakerEvents: BreakerStateEvent[] = [];
  const router = createRouter({
    clock: time.clock,
    timers: time.timers,
    random,
    sleep: async () => {},
    onShadowResult: (result) => results.push(result),
    onBreakerStateChange: (event) => breakerEvents.push(event),
  });
  return { router, time, results, breakerEvents };
}

const timeouts = { connectMs: 100, firstByteMs: 500, totalMs: 5_000 };

describe("router shadows", () => {
  it("mirrors about sampleRate of requests", async () => {
    const { router, results } = setup(seededRandom(5));
    const candidate = new FakeUpstream({ chat: async () => completion("same") });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chat: async () => completion("same") }))],
      shadows: [{ target: target("p/candidate", candidate), sampleRate: 0.25 }],
    });
    for (let index = 0; index < 1_000; index++) await router.execute(route, context(), callChat);
    await settle();
    const share = candidate.chatCalls / 1_000;
    assert.ok(Math.abs(share - 0.25) < 0.04, `shadow share ${share}`);
    assert.equal(results.length, candidate.chatCalls);
    assert.ok(results.every((result) => result.ok && result.primaryOk && result.diff === undefined));
  });

  it("reports the diff once both calls finished, without delaying or changing the primary", async () => {
    const { router, time, results } = setup();
    let finishShadow: (value: ChatCompletion) => void = () => {};
    const candidate = new FakeUpstream({
      chat: () =>
        new Promise<ChatCompletion>((resolve) => {
          finishShadow = resolve;
        }),
    });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chat: async () => completion("hello") }))],
      shadows: [{ target: target("p/candidate", candidate), sampleRate: 1 }],
    });
    const result = await router.execute(route, { ...context(), compare: compareText }, callChat);
    assert.equal(text(result.value), "hello");
    assert.equal(result.target.id, "p/live");
    assert.equal(result.upstreamMs, 0);
    await settle();
    assert.equal(candidate.chatCalls, 1, "the shadow runs in the background");
    assert.equal(results.length, 0, "no report until the shadow finishes");

    await time.advance(300);
    finishShadow(completion("hullo"));
    await settle();
    assert.deepEqual(results, [
      {
        endpoint: "chat-small",
        target: "p/candidate",
        requestId: "req_shadow",
        latencyMs: 300,
        ok: true,
        primaryOk: true,
        diff: 1,
      },
    ]);
  });

  it("uses the router-wide compare when the call gives none", async () => {
    const time = createFakeTime();
    const results: ShadowResult[] = [];
    const router = createRouter({
      clock: time.clock,
      timers: time.timers,
      random: () => 0,
      compare: (primary, shadow) => compareText(primary as ChatCompletion, shadow as ChatCompletion),
      onShadowResult: (result) => results.push(result),
    });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chat: async () => completion("same") }))],
      shadows: [
        { target: target("p/candidate", new FakeUpstream({ chat: async () => completion("same") })), sampleRate: 1 },
      ],
    });
    await router.execute(route, context(), callChat);
    await settle();
    assert.equal(results[0]?.diff, 0);
  });

  it("swallows shadow errors and timeouts into reports; the primary is untouched", async () => {
    const { router, time, results } = setup();
    const broken = new FakeUpstream({
      chat: async () => {
        throw new ModelportError("MP_UPSTREAM_ERROR", "shadow exploded");
      },
    });
    const hanging = new FakeUpstream({ chat: () => never() });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chat: async () => completion("fine") }))],
      shadows: [
        { target: target("p/broken", broken), sampleRate: 1 },
        { target: target("p/hanging", hanging), sampleRate: 1 },
      ],
      timeouts,
    });
    const result = await router.execute(route, { ...context(), compare: compareText }, callChat);
    assert.equal(text(result.value), "fine");
    await settle();
    assert.deepEqual(
      results.map((entry) => [entry.target, entry.ok, entry.errorCode, entry.diff]),
      [["p/broken", false, "MP_UPSTREAM_ERROR", undefined]],
    );
    await time.advance(5_000);
    assert.equal(hanging.contexts[0]?.signal.aborted, true, "the shadow has its own timeout");
    assert.deepEqual(results[1] && [results[1].target, results[1].ok, results[1].errorCode, results[1].latencyMs], [
      "p/hanging",
      false,
      "MP_UPSTREAM_TIMEOUT",
      5_000,
    ]);
  });

  it("reports primaryOk false and no diff when the primary fails", async () => {
    const { router, results } = setup();
    const route = makeRoute({
      targets: [
        target(
          "p/live",
          new FakeUpstream({
            chat: async () => {
              throw new ModelportError("MP_UPSTREAM_REJECTED", "bad");
            },
          }),
        ),
      ],
      shadows: [
        { target: target("p/candidate", new FakeUpstream({ chat: async () => completion("x") })), sampleRate: 1 },
      ],
    });
    await assert.rejects(router.execute(route, { ...context(), compare: compareText }, callChat));
    await settle();
    assert.equal(results.length, 1);
    assert.equal(results[0]?.ok, true);
    assert.equal(results[0]?.primaryOk, false);
    assert.equal(results[0]?.diff, undefined);
  });

  it("keeps shadow failures off the routing breakers, and skips a shadow whose own breaker is open", async () => {
    const { router, results, breakerEvents } = setup();
    // The shadow has the same target id as the primary (same upstream model), but its calls fail.
    const shared = new FakeUpstream({ chat: async () => completion("primary") });
    const mirrorUpstream = new FakeUpstream({
      chat: async () => {
        throw retryable("shadow side down");
      },
    });
    const mirror = target("p/shared", mirrorUpstream);
    const route = makeRoute({
      targets: [target("p/shared", shared)],
      shadows: [{ target: mirror, sampleRate: 1 }],
      breaker: { failureThreshold: 2, cooldownMs: 1_000, halfOpenMaxRequests: 1 },
    });
    for (let index = 0; index < 4; index++) {
      const result = await router.execute(route, context(), callChat);
      assert.equal(text(result.value), "primary");
      await settle();
    }
    assert.equal(router.breakerState("chat-small", "p/shared"), "closed", "routing breaker unaffected");
    assert.equal(results.length, 2, "after two failures the shadow breaker opened and later requests skipped it");
    assert.equal(shared.chatCalls, 4);
    assert.equal(mirrorUpstream.chatCalls, 2);
    assert.deepEqual(
      breakerEvents.map((event) => [event.target, event.to, event.shadow]),
      [["p/shared", "open", true]],
    );
  });

  it("mirrors streams through shadowCall, comparing against the folded stream", async () => {
    const { router, results } = setup();
    const live = new FakeUpstream({ chatStream: async () => scriptedStream(["Hel", "lo"]) });
    const candidate = new FakeUpstream({ chat: async () => completion("Hello") });
    const route = makeRoute({
      targets: [target("p/live", live)],
      shadows: [{ target: target("p/candidate", candidate), sampleRate: 1 }],
      timeouts,
    });
    const result = await router.executeStream(
      route,
      { ...context(), compare: compareText, shadowCall: callChat },
      startChatStream,
    );
    await settle();
    assert.equal(candidate.chatCalls, 1);
    assert.equal(results.length, 0, "waits for the primary stream to end");
    const pieces: string[] = [];
    for await (const piece of result.stream) pieces.push(String(piece.choices[0]?.delta.content));
    assert.deepEqual(pieces, ["Hel", "lo"]);
    assert.equal(results[0]?.diff, 0);
    assert.equal(results[0]?.primaryOk, true);
  });

  it("does not mirror a stream without shadowCall", async () => {
    const { router, results } = setup();
    const candidate = new FakeUpstream({
      chat: async () => completion("x"),
      chatStream: async () => scriptedStream(["x"]),
    });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chatStream: async () => scriptedStream(["a"]) }))],
      shadows: [{ target: target("p/candidate", candidate), sampleRate: 1 }],
      timeouts,
    });
    const result = await router.executeStream(route, context(), startChatStream);
    for await (const _ of result.stream) {
      // drain
    }
    await settle();
    assert.equal(candidate.chatCalls + candidate.streamCalls, 0);
    assert.equal(results.length, 0);
  });

  it("close() aborts in-flight shadows and stops new ones", async () => {
    const { router, results } = setup();
    const hanging = new FakeUpstream({ chat: () => never() });
    const route = makeRoute({
      targets: [target("p/live", new FakeUpstream({ chat: async () => completion("a") }))],
      shadows: [{ target: target("p/hanging", hanging), sampleRate: 1 }],
    });
    await router.execute(route, context(), callChat);
    await settle();
    router.close();
    await settle();
    assert.equal(hanging.contexts[0]?.signal.aborted, true);
    assert.equal(results[0]?.errorCode, "MP_SHUTTING_DOWN");
    await router.execute(route, context(), callChat);
    await settle();
    assert.equal(hanging.chatCalls, 1);
  });
});
