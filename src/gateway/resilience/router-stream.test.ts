import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletionChunk } from "../../core/openai-types.js";
import type { ChatStream } from "../../core/runtime.js";
import { type AttemptEvent, createRouter } from "./router.js";
import { createFakeTime, settle } from "./testing/fake-time.js";
import {
  chunk,
  FakeUpstream,
  makeRoute,
  never,
  retryable,
  type ScriptedStream,
  scriptedStream,
  startChatStream,
  target,
} from "./testing/fake-upstream.js";

const context = (signal = new AbortController().signal) => ({ signal, requestId: "req_stream" });
const hasCode = (code: string) => (error: unknown) => error instanceof ModelportError && error.code === code;

function setup() {
  const time = createFakeTime();
  const attempts: AttemptEvent[] = [];
  const router = createRouter({
    clock: time.clock,
    timers: time.timers,
    random: () => 0.5,
    sleep: async () => {},
    onAttempt: (event) => attempts.push(event),
  });
  return { router, time, attempts };
}

/** An upstream whose every stream call returns a fresh scripted stream (kept for inspection). */
function streaming(texts: string[], failWith?: unknown) {
  const streams: ScriptedStream[] = [];
  const upstream = new FakeUpstream({
    chatStream: async () => {
      const stream = scriptedStream(texts, failWith);
      streams.push(stream);
      return stream;
    },
  });
  return { upstream, streams };
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string[]> {
  const texts: string[] = [];
  for await (const chunk of stream) texts.push(String(chunk.choices[0]?.delta.content));
  return texts;
}

const timeouts = { connectMs: 100, firstByteMs: 500, totalMs: 5_000 };

describe("router.executeStream", () => {
  it("yields the first chunk and the rest from the chosen target", async () => {
    const { router, attempts } = setup();
    const { upstream, streams } = streaming(["He", "llo"]);
    const route = makeRoute({ targets: [target("p/a", upstream)], timeouts });
    const result = await router.executeStream(route, context(), startChatStream);
    assert.equal(result.target.id, "p/a");
    assert.equal(result.attempts, 1);
    assert.equal(result.firstChunkMs, 0);
    assert.equal(streams[0]?.pulled, 1, "only the first chunk is pulled before committing");
    assert.deepEqual(await collect(result.stream), ["He", "llo"]);
    assert.equal(streams[0]?.released, true);
    assert.deepEqual(
      attempts.map((event) => [event.target, event.ok, event.phase]),
      [["p/a", true, "call"]],
    );
  });

  it("falls back when the first chunk does not arrive within firstByteMs", async () => {
    const { router, time, attempts } = setup();
    const silent = new FakeUpstream({
      chatStream: async () => ({
        chunks: {
          [Symbol.asyncIterator]: () => ({ next: () => never<IteratorResult<ChatCompletionChunk>>() }),
        },
      }),
    });
    const { upstream: backup } = streaming(["ok"]);
    const route = makeRoute({
      targets: [target("p/silent", silent)],
      fallbacks: [target("p/backup", backup)],
      timeouts,
    });
    const pending = router.executeStream(route, context(), startChatStream);
    await time.advance(499);
    assert.equal(backup.streamCalls, 0);
    await time.advance(1);
    const result = await pending;
    assert.equal(result.target.id, "p/backup");
    assert.equal(silent.contexts[0]?.signal.aborted, true);
    assert.equal(attempts[0]?.errorCode, "MP_UPSTREAM_TIMEOUT");
    assert.deepEqual(await collect(result.stream), ["ok"]);
  });

  it("times out a start() that never resolves, using firstByteMs", async () => {
    const { router, time } = setup();
    const hanging = new FakeUpstream({ chatStream: () => never<ChatStream>() });
    const route = makeRoute({ targets: [target("p/hang", hanging)], timeouts });
    const assertion = assert.rejects(
      router.executeStream(route, context(), startChatStream),
      hasCode("MP_UPSTREAM_TIMEOUT"),
    );
    await time.advance(500);
    await assertion;
  });

  it("releases a stream that opens after its attempt timed out", async () => {
    const { router, time } = setup();
    let open: (stream: ChatStream) => void = () => {};
    const late = scriptedStream(["late"]);
    const slow = new FakeUpstream({
      chatStream: () =>
        new Promise<ChatStream>((resolve) => {
          open = resolve;
        }),
    });
    const route = makeRoute({ targets: [target("p/slow", slow)], timeouts });
    const assertion = assert.rejects(
      router.executeStream(route, context(), startChatStream),
      hasCode("MP_UPSTREAM_TIMEOUT"),
    );
    await time.advance(500);
    await assertion;
    open(late);
    await settle();
    assert.equal(late.pulled, 0);
    assert.equal(late.released, false, "an unstarted generator has no finally to run…");
    // …but it is closed: iterating it now yields nothing.
    assert.deepEqual(await collect(late.chunks), []);
  });

  it("falls back when start() rejects, when the stream throws before a chunk, or ends empty", async () => {
    const { router } = setup();
    const rejects = new FakeUpstream({
      chatStream: async () => {
        throw retryable("connect refused");
      },
    });
    const { upstream: throwsFirst, streams: thrownStreams } = streaming([], retryable("reset"));
    const { upstream: empty } = streaming([]);
    const { upstream: backup } = streaming(["fine"]);
    const route = makeRoute({
      targets: [target("p/rejects", rejects)],
      fallbacks: [target("p/throws", throwsFirst), target("p/empty", empty), target("p/backup", backup)],
      timeouts,
    });
    const result = await router.executeStream(route, context(), startChatStream);
    assert.equal(result.target.id, "p/backup");
    assert.equal(result.attempts, 4);
    assert.equal(thrownStreams[0]?.released, true);
    assert.deepEqual(await collect(result.stream), ["fine"]);
  });

  it("reports an empty stream as MP_UPSTREAM_BAD_RESPONSE when nothing else is left", async () => {
    const { router } = setup();
    const { upstream } = streaming([]);
    const route = makeRoute({ targets: [target("p/empty", upstream)], timeouts });
    await assert.rejects(router.executeStream(route, context(), startChatStream), hasCode("MP_UPSTREAM_BAD_RESPONSE"));
  });

  it("does not fall back on a non-retryable error before the first chunk", async () => {
    const { router } = setup();
    const rejects = new FakeUpstream({
      chatStream: async () => {
        throw new ModelportError("MP_UPSTREAM_REJECTED", "context too long");
      },
    });
    const { upstream: backup } = streaming(["x"]);
    const route = makeRoute({ targets: [target("p/a", rejects)], fallbacks: [target("p/b", backup)], timeouts });
    await assert.rejects(router.executeStream(route, context(), startChatStream), hasCode("MP_UPSTREAM_REJECTED"));
    assert.equal(backup.streamCalls, 0);
  });

  it("propagates an error after the first chunk without fallback, counting it on the breaker", async () => {
    const { router, attempts } = setup();
    const { upstream } = streaming(["partial"], retryable("connection reset mid-stream"));
    const { upstream: backup } = streaming(["x"]);
    const route = makeRoute({
      targets: [target("p/a", upstream)],
      fallbacks: [target("p/b", backup)],
      timeouts,
      breaker: { failureThreshold: 1, cooldownMs: 1_000, halfOpenMaxRequests: 1 },
    });
    const result = await router.executeStream(route, context(), startChatStream);
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of result.stream) seen.push(String(chunk.choices[0]?.delta.content));
    }, /connection reset mid-stream/);
    assert.deepEqual(seen, ["partial"]);
    assert.equal(backup.streamCalls, 0);
    assert.equal(router.breakerState("chat-small", "p/a"), "open");
    assert.deepEqual(
      attempts.map((event) => [event.ok, event.phase, event.errorCode]),
      [
        [true, "call", undefined],
        [false, "stream", "MP_UPSTREAM_UNAVAILABLE"],
      ],
    );
    assert.deepEqual(await result.stream.next(), { done: true, value: undefined }, "a failed stream stays done");
  });

  it("passes an early consumer exit to the upstream iterator and aborts the attempt", async () => {
    const { router } = setup();
    const { upstream, streams } = streaming(["a", "b", "c", "d"]);
    const route = makeRoute({ targets: [target("p/a", upstream)], timeouts });
    const result = await router.executeStream(route, context(), startChatStream);
    for await (const chunk of result.stream) {
      if (chunk.choices[0]?.delta.content === "b") break;
    }
    assert.equal(streams[0]?.released, true);
    assert.equal(streams[0]?.pulled, 2);
    assert.equal(upstream.contexts[0]?.signal.aborted, true);
    assert.equal(router.breakerState("chat-small", "p/a"), "closed");
  });

  it("enforces totalMs over the whole stream", async () => {
    const { router, time } = setup();
    let release: (() => void) | undefined;
    const stalls = new FakeUpstream({
      chatStream: async () => ({
        chunks: (async function* () {
          yield chunk("first");
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          yield chunk("never seen");
        })(),
      }),
    });
    const route = makeRoute({ targets: [target("p/stall", stalls)], timeouts });
    const result = await router.executeStream(route, context(), startChatStream);
    const iterator = result.stream;
    assert.equal((await iterator.next()).value?.choices[0]?.delta.content, "first");
    const second = assert.rejects(iterator.next(), hasCode("MP_UPSTREAM_TIMEOUT"));
    await time.advance(4_999);
    assert.equal(stalls.contexts[0]?.signal.aborted, false);
    await time.advance(1);
    await second;
    assert.equal(stalls.contexts[0]?.signal.aborted, true);
    release?.();
  });

  it("ends a committed stream promptly when the caller aborts", async () => {
    const { router } = setup();
    const controller = new AbortController();
    const stalls = new FakeUpstream({
      chatStream: async () => ({
        chunks: (async function* () {
          yield chunk("first");
          await never();
        })(),
      }),
    });
    const route = makeRoute({ targets: [target("p/stall", stalls)], timeouts });
    const result = await router.executeStream(route, context(controller.signal), startChatStream);
    await result.stream.next();
    const next = result.stream.next();
    controller.abort();
    await assert.rejects(next, hasCode("MP_CLIENT_CLOSED"));
    assert.equal(router.breakerState("chat-small", "p/stall"), "closed");
  });
});
