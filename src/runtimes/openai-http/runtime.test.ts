import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import {
  type MockOpenAIUpstream,
  mockBehaviour,
  startMockOpenAIUpstream,
} from "../../../test/fixtures/mock-openai-upstream.js";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletionChunk, ChatCompletionRequest } from "../../core/openai-types.js";
import { invokeContext, runtimeContractSuite } from "../../core/testing/runtime-contract.js";
import { createOpenAIHttpRuntime, type OpenAIHttpRuntime } from "./index.js";

const apiKey = "sk-test-modelport-0123456789";
const chatRequest: ChatCompletionRequest = {
  model: "upstream-model",
  messages: [{ role: "user", content: "Hi there" }],
};
const streamRequest: ChatCompletionRequest = { ...chatRequest, stream: true };

/** Asserts a rejection is a ModelportError with the code, and returns it for more checks. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<ModelportError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ModelportError, `expected a ModelportError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  assert.ok(!caught.message.includes(apiKey), "the API key never appears in a message");
  return caught;
}

/** The JSON body the mock received in its first request (fails the test if there is none). */
function sentBody(mock: MockOpenAIUpstream): ChatCompletionRequest {
  const body = mock.requests[0]?.body;
  assert.ok(body && typeof body === "object", "the upstream received a JSON body");
  return body as ChatCompletionRequest;
}

async function collect(chunks: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

runtimeContractSuite("openai-http", async () => {
  const mock = await startMockOpenAIUpstream();
  return {
    runtime: createOpenAIHttpRuntime({ baseUrl: mock.url, apiKey }),
    model: "mock-model",
    dispose: () => mock.close(),
  };
});

describe("openai-http runtime against a misbehaving upstream", () => {
  let mock: MockOpenAIUpstream;
  let runtime: OpenAIHttpRuntime;
  before(async () => {
    mock = await startMockOpenAIUpstream();
    runtime = createOpenAIHttpRuntime({ baseUrl: `${mock.url}/`, apiKey, headers: { "X-Extra": "yes" } });
  });
  after(async () => {
    await runtime.close();
    await mock.close();
  });
  beforeEach(() => mock.reset());

  describe("requests", () => {
    it("posts the request as JSON with the bearer key and extra headers", async () => {
      const result = await runtime.chat({ ...chatRequest, temperature: 0.5 }, invokeContext());
      assert.equal(result.choices[0]?.message.content, "Hello from the mock upstream.");
      const [recorded] = mock.requests;
      assert.equal(recorded?.path, "/v1/chat/completions");
      assert.equal(recorded?.headers.authorization, `Bearer ${apiKey}`);
      assert.equal(recorded?.headers["x-extra"], "yes");
      assert.equal(recorded?.headers["content-type"], "application/json");
      assert.deepEqual(recorded?.body, { ...chatRequest, temperature: 0.5 });
    });

    it("sends no Authorization header without an API key", async () => {
      const anonymous = createOpenAIHttpRuntime({ baseUrl: mock.url });
      try {
        await anonymous.chat(chatRequest, invokeContext());
        assert.equal(mock.requests[0]?.headers.authorization, undefined);
      } finally {
        await anonymous.close();
      }
    });

    it("asks for a JSON answer in chat() even when the request says stream", async () => {
      const result = await runtime.chat(streamRequest, invokeContext());
      assert.equal(result.object, "chat.completion");
      assert.equal(sentBody(mock).stream, false);
    });

    it("embeds through /embeddings", async () => {
      const result = await runtime.embed({ model: "e", input: ["a", "b", "c"] }, invokeContext());
      assert.equal(result.data.length, 3);
      assert.equal(mock.requests[0]?.path, "/v1/embeddings");
    });

    it("reuses one keep-alive connection for sequential requests", async () => {
      const fresh = createOpenAIHttpRuntime({ baseUrl: mock.url });
      try {
        const before = mock.connectionCount;
        for (let index = 0; index < 10; index++) {
          // undici hands a finished socket back one event-loop turn later (it checks first that
          // the server did not close it), as gateway requests, each from its own socket event, are.
          await nextTurn();
          await fresh.chat(chatRequest, invokeContext());
          await nextTurn();
          const stream = await fresh.chatStream(streamRequest, invokeContext());
          await collect(stream.chunks);
        }
        assert.equal(mock.connectionCount - before, 1, "20 calls, streams included, over one connection");
      } finally {
        await fresh.close();
      }
    });
  });

  describe("streams", () => {
    it("asks the upstream for usage but does not pass the usage chunk to a caller who did not ask", async () => {
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const chunks = await collect(stream.chunks);
      const sent = sentBody(mock);
      assert.equal(sent.stream, true);
      assert.deepEqual(sent.stream_options, { include_usage: true });
      assert.equal(chunks.length, 7, "role, 5 words, finish");
      assert.ok(chunks.every((chunk) => chunk.choices.length === 1));
      assert.ok(
        chunks.every((chunk) => !chunk.usage),
        "no usage leaks to the caller",
      );
      assert.equal(
        chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join(""),
        "Hello from the mock upstream.",
      );
      assert.deepEqual(stream.usage(), { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    });

    it("passes the usage chunk on when the caller asked, keeping their other stream options", async () => {
      const stream = await runtime.chatStream(
        { ...streamRequest, stream_options: { include_usage: true, other: 1 } as never },
        invokeContext(),
      );
      const chunks = await collect(stream.chunks);
      assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
      assert.deepEqual(stream.usage(), chunks.at(-1)?.usage);
      assert.deepEqual(sentBody(mock).stream_options, {
        include_usage: true,
        other: 1,
      });
    });

    it("resolves on the response headers, before the chunks arrive", async () => {
      mock.enqueue(mockBehaviour.slowChunks(150));
      const started = performance.now();
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      assert.ok(performance.now() - started < 120, "resolved before the second chunk was sent");
      const chunks = await collect(stream.chunks);
      assert.equal(chunks.length, 7);
    });

    it("stops the upstream when the consumer breaks out of the loop", async () => {
      mock.enqueue(mockBehaviour.slowChunks(100, { content: "one two three four five six seven eight nine ten" }));
      const aborts = mock.clientAborts;
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      for await (const _chunk of stream.chunks) break;
      await mock.waitForClientAborts(aborts + 1, 1_000);
      assert.equal(mock.openStreams, 0);
    });

    it("stops the upstream when the consumer returns without reading a chunk", async () => {
      mock.enqueue(mockBehaviour.slowChunks(100));
      const aborts = mock.clientAborts;
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const iterator = stream.chunks[Symbol.asyncIterator]();
      assert.deepEqual(await iterator.return?.(), { done: true, value: undefined });
      await mock.waitForClientAborts(aborts + 1, 1_000);
      assert.equal((await iterator.next()).done, true, "a returned stream stays done");
    });

    it("ends a pending read quietly when the consumer returns concurrently", async () => {
      mock.enqueue(mockBehaviour.slowChunks(300));
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const iterator = stream.chunks[Symbol.asyncIterator]();
      await iterator.next();
      const pending = iterator.next();
      await iterator.return?.();
      assert.deepEqual(await pending, { done: true, value: undefined });
    });

    it("stops the upstream and fails with MP_CLIENT_CLOSED when the caller's signal aborts", async () => {
      mock.enqueue(mockBehaviour.slowChunks(100, { content: "one two three four five six seven eight nine ten" }));
      const aborts = mock.clientAborts;
      const controller = new AbortController();
      const stream = await runtime.chatStream(streamRequest, invokeContext({ signal: controller.signal }));
      const iterator = stream.chunks[Symbol.asyncIterator]();
      assert.equal((await iterator.next()).done, false);
      setTimeout(() => controller.abort(), 50);
      const error = await rejectsWith(collect({ [Symbol.asyncIterator]: () => iterator }), "MP_CLIENT_CLOSED");
      assert.equal(error.status, 499);
      assert.equal(error.isRetryable, false);
      await mock.waitForClientAborts(aborts + 1, 1_000);
    });

    it("fails a truncated stream with a retryable MP_UPSTREAM_ERROR after yielding what arrived", async () => {
      mock.enqueue(mockBehaviour.truncatedStream(3));
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const received: ChatCompletionChunk[] = [];
      const error = await rejectsWith(
        (async () => {
          for await (const chunk of stream.chunks) received.push(chunk);
        })(),
        "MP_UPSTREAM_ERROR",
      );
      assert.equal(received.length, 3);
      assert.equal(error.isRetryable, true);
      assert.ok(error.cause, "the socket error is kept as cause");
    });

    it("fails a stream that ends cleanly but without [DONE]", async () => {
      mock.enqueue(mockBehaviour.truncatedStream(2, { cleanEnd: true }));
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const received: ChatCompletionChunk[] = [];
      const error = await rejectsWith(
        (async () => {
          for await (const chunk of stream.chunks) received.push(chunk);
        })(),
        "MP_UPSTREAM_ERROR",
      );
      assert.equal(received.length, 2);
      assert.match(error.message, /ended before \[DONE\]/);
    });

    it("turns an error event into MP_UPSTREAM_ERROR with the upstream's message", async () => {
      mock.enqueue(mockBehaviour.streamError(3, `boom for ${apiKey}`));
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      const received: ChatCompletionChunk[] = [];
      const error = await rejectsWith(
        (async () => {
          for await (const chunk of stream.chunks) received.push(chunk);
        })(),
        "MP_UPSTREAM_ERROR",
      );
      assert.equal(received.length, 3);
      assert.match(error.message, /boom for \[redacted\]/);
    });

    it("skips named non-error events such as pings", async () => {
      // Not something the mock does: a one-off upstream that interleaves `event: ping`.
      const server = createHttpServer((_request, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" });
        const chunk = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
        response.write(
          `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] })}\n\n`,
        );
        response.write("event: ping\ndata: {}\n\n");
        response.end("data: [DONE]\n\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as { port: number };
      const pinging = createOpenAIHttpRuntime({ baseUrl: `http://127.0.0.1:${port}/v1` });
      try {
        const chunks = await collect((await pinging.chatStream(streamRequest, invokeContext())).chunks);
        assert.deepEqual(
          chunks.map((chunk) => chunk.choices[0]?.delta.content),
          ["x"],
        );
      } finally {
        await pinging.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("fails a stream event that is not JSON with MP_UPSTREAM_BAD_RESPONSE", async () => {
      mock.enqueue(mockBehaviour.invalidJson());
      const stream = await runtime.chatStream(streamRequest, invokeContext());
      await rejectsWith(collect(stream.chunks), "MP_UPSTREAM_BAD_RESPONSE");
    });

    it("maps an error status on a stream request before resolving", async () => {
      mock.enqueue(mockBehaviour.status(503, { message: "overloaded" }));
      const error = await rejectsWith(runtime.chatStream(streamRequest, invokeContext()), "MP_UPSTREAM_ERROR");
      assert.match(error.message, /503.*overloaded/);
    });

    it("times out a stream that stalls past totalMs", async () => {
      mock.enqueue(mockBehaviour.slowChunks(2_000));
      const stream = await runtime.chatStream(
        streamRequest,
        invokeContext({ timeouts: { connectMs: 1_000, firstByteMs: 1_000, totalMs: 300 } }),
      );
      await rejectsWith(collect(stream.chunks), "MP_UPSTREAM_TIMEOUT");
    });
  });

  describe("error mapping", () => {
    it("429 with Retry-After seconds → MP_UPSTREAM_RATE_LIMITED with retryAfterSeconds", async () => {
      mock.enqueue(mockBehaviour.status(429, { message: "Rate limit reached", retryAfter: "12" }));
      const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_RATE_LIMITED");
      assert.equal(error.retryAfterSeconds, 12);
      assert.equal(error.status, 429);
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /Rate limit reached/);
    });

    it("429 with retry-after-ms and with an HTTP-date", async () => {
      mock.enqueue(mockBehaviour.status(429, { retryAfterMs: "1500" }));
      const precise = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_RATE_LIMITED");
      assert.equal(precise.retryAfterSeconds, 1.5);
      mock.enqueue(mockBehaviour.status(429, { retryAfter: new Date(Date.now() + 30_000).toUTCString() }));
      const dated = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_RATE_LIMITED");
      assert.ok(
        dated.retryAfterSeconds !== undefined && dated.retryAfterSeconds >= 28 && dated.retryAfterSeconds <= 31,
      );
    });

    it("500 → retryable MP_UPSTREAM_ERROR 502 that names the upstream status", async () => {
      mock.enqueue(mockBehaviour.status(500, { message: "internal kaboom" }));
      const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_ERROR");
      assert.equal(error.status, 502);
      assert.equal(error.isRetryable, true);
      assert.match(error.message, /HTTP 500/);
    });

    it("408 and 409 are retryable upstream errors too", async () => {
      for (const status of [408, 409]) {
        mock.enqueue(mockBehaviour.status(status));
        const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_ERROR");
        assert.equal(error.isRetryable, true);
      }
    });

    it("400/404/422 → MP_UPSTREAM_REJECTED with the upstream status and message passed through", async () => {
      for (const status of [400, 404, 422]) {
        mock.enqueue(mockBehaviour.status(status, { message: `bad thing ${status}` }));
        const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_REJECTED");
        assert.equal(error.status, status);
        assert.equal(error.message, `bad thing ${status}`);
        assert.equal(error.isRetryable, false);
      }
    });

    it("a vLLM-style error body ({message}) gives the message too", async () => {
      mock.enqueue(mockBehaviour.status(400, { rawBody: JSON.stringify({ object: "error", message: "too long" }) }));
      const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_REJECTED");
      assert.equal(error.message, "too long");
    });

    it("401/403 → non-retryable 502 about Modelport's credentials, never echoing the key", async () => {
      for (const status of [401, 403]) {
        mock.enqueue(mockBehaviour.status(status, { message: `Incorrect API key provided: ${apiKey}` }));
        const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_ERROR");
        assert.equal(error.message, "upstream rejected Modelport's credentials");
        assert.equal(error.status, 502);
        assert.equal(error.isRetryable, false);
        assert.ok(!String((error.cause as { body?: string }).body).includes(apiKey), "the cause is redacted too");
      }
    });

    it("connection reset before the answer → MP_UPSTREAM_UNAVAILABLE", async () => {
      mock.enqueue(mockBehaviour.reset());
      const error = await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_UNAVAILABLE");
      assert.ok(error.cause, "keeps the socket error");
    });

    it("a slow first byte beyond firstByteMs → MP_UPSTREAM_TIMEOUT", async () => {
      mock.enqueue(mockBehaviour.slowFirstByte(3_000));
      const started = performance.now();
      const error = await rejectsWith(
        runtime.chat(chatRequest, invokeContext({ timeouts: { connectMs: 1_000, firstByteMs: 150, totalMs: 5_000 } })),
        "MP_UPSTREAM_TIMEOUT",
      );
      // undici runs headersTimeout on its coarse timer wheel (~0.5-1 s resolution, one timer for all
      // requests): cheap, and precise enough for first-byte limits of seconds.
      assert.ok(performance.now() - started < 2_000, "gave up at firstByteMs, not at totalMs or the answer");
      assert.equal((error.cause as { code?: string }).code, "UND_ERR_HEADERS_TIMEOUT");
    });

    it("a hanging upstream beyond totalMs → MP_UPSTREAM_TIMEOUT, and the upstream sees the request cancelled", async () => {
      mock.enqueue(mockBehaviour.hang());
      const aborts = mock.clientAborts;
      await rejectsWith(
        runtime.chat(chatRequest, invokeContext({ timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 200 } })),
        "MP_UPSTREAM_TIMEOUT",
      );
      await mock.waitForClientAborts(aborts + 1, 1_000);
    });

    it("the caller aborting a pending call → MP_CLIENT_CLOSED, and the upstream sees it", async () => {
      mock.enqueue(mockBehaviour.hang());
      const aborts = mock.clientAborts;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await rejectsWith(runtime.chat(chatRequest, invokeContext({ signal: controller.signal })), "MP_CLIENT_CLOSED");
      await mock.waitForClientAborts(aborts + 1, 1_000);
    });

    it("a caller's abort reason that is a ModelportError or a TimeoutError is respected", async () => {
      const shutdown = new AbortController();
      shutdown.abort(new ModelportError("MP_SHUTTING_DOWN", "draining"));
      await rejectsWith(runtime.chat(chatRequest, invokeContext({ signal: shutdown.signal })), "MP_SHUTTING_DOWN");
      await rejectsWith(
        runtime.chat(
          chatRequest,
          invokeContext({ signal: AbortSignal.abort(new DOMException("late", "TimeoutError")) }),
        ),
        "MP_UPSTREAM_TIMEOUT",
      );
      assert.equal(mock.requests.length, 0, "an already aborted call sends nothing");
    });

    it("invalid JSON or a body without choices → MP_UPSTREAM_BAD_RESPONSE", async () => {
      mock.enqueue(mockBehaviour.invalidJson());
      await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_BAD_RESPONSE");
      mock.enqueue(mockBehaviour.invalidJson());
      await rejectsWith(runtime.embed({ model: "e", input: "x" }, invokeContext()), "MP_UPSTREAM_BAD_RESPONSE");
    });

    it("a JSON body cut off mid-way → MP_UPSTREAM_ERROR (the response broke off)", async () => {
      mock.enqueue(mockBehaviour.truncatedStream(0));
      await rejectsWith(runtime.chat(chatRequest, invokeContext()), "MP_UPSTREAM_ERROR");
    });

    it("leaves no listener on the caller's signal once calls end, whichever way", async () => {
      const controller = new AbortController();
      const context = invokeContext({ signal: controller.signal });
      await runtime.chat(chatRequest, context);
      await collect((await runtime.chatStream(streamRequest, context)).chunks);
      mock.enqueue(mockBehaviour.status(500));
      await rejectsWith(runtime.chat(chatRequest, context), "MP_UPSTREAM_ERROR");
      mock.enqueue(mockBehaviour.truncatedStream(1));
      await rejectsWith(
        runtime.chatStream(streamRequest, context).then((stream) => collect(stream.chunks)),
        "MP_UPSTREAM_ERROR",
      );
      const early = await runtime.chatStream(streamRequest, context);
      for await (const _chunk of early.chunks) break;
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    });

    it("keeps serving after all of the above", async () => {
      const result = await runtime.chat(chatRequest, invokeContext());
      assert.equal(result.object, "chat.completion");
      assert.equal(runtime.isReady(), true);
    });
  });

  describe("connection failures and lifecycle", () => {
    it("a closed port → MP_UPSTREAM_UNAVAILABLE, and not ready after repeated failures", async () => {
      const port = await closedPort();
      const dead = createOpenAIHttpRuntime({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey });
      try {
        await dead.load();
        assert.equal(dead.isReady(), true, "ready until a failure is known");
        for (let attempt = 0; attempt < 3; attempt++) {
          const error = await rejectsWith(dead.chat(chatRequest, invokeContext()), "MP_UPSTREAM_UNAVAILABLE");
          assert.equal(error.isRetryable, true);
        }
        assert.equal(dead.isReady(), false);
        await rejectsWith(dead.chatStream(streamRequest, invokeContext()), "MP_UPSTREAM_UNAVAILABLE");
      } finally {
        await dead.close();
      }
    });

    it("rejects a bad base URL at creation with MP_CONFIG_INVALID", () => {
      assert.throws(
        () => createOpenAIHttpRuntime({ baseUrl: "not a url" }),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_CONFIG_INVALID",
      );
      assert.throws(
        () => createOpenAIHttpRuntime({ baseUrl: "ftp://example.com/v1" }),
        (error: unknown) => error instanceof ModelportError && error.code === "MP_CONFIG_INVALID",
      );
    });

    it("after close: not ready, calls fail with MP_SHUTTING_DOWN, close twice is safe", async () => {
      const closing = createOpenAIHttpRuntime({ baseUrl: mock.url });
      await closing.chat(chatRequest, invokeContext());
      await closing.close();
      await closing.close();
      assert.equal(closing.isReady(), false);
      await rejectsWith(closing.chat(chatRequest, invokeContext()), "MP_SHUTTING_DOWN");
    });
  });
});
