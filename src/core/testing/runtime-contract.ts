import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ModelportError } from "../errors.js";
import type { OipInferRequest } from "../oip-types.js";
import type { InvokeContext, ModelRuntime } from "../runtime.js";

/**
 * The one contract every ModelRuntime adapter passes against its real engine (drizzle-style: one
 * suite, every driver). An adapter's test file calls `runtimeContractSuite` with a factory for a
 * ready-to-use runtime and says which kinds to exercise.
 */
export interface RuntimeContractSubject {
  runtime: ModelRuntime;
  /** Runtime-side model name for chat/embeddings requests. */
  model: string;
  /** A valid OIP request for predict runtimes, and the output names it must produce. */
  predict?: { request: OipInferRequest; outputNames: string[]; invalidRequest: OipInferRequest };
  /** Releases fixtures (servers, temp files) after the suite. */
  dispose?: () => Promise<void>;
}

export function invokeContext(overrides: Partial<InvokeContext> = {}): InvokeContext {
  return {
    signal: new AbortController().signal,
    requestId: "req_contract",
    timeouts: { connectMs: 5_000, firstByteMs: 60_000, totalMs: 120_000 },
    ...overrides,
  };
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

export function runtimeContractSuite(name: string, makeSubject: () => Promise<RuntimeContractSubject>): void {
  describe(`ModelRuntime contract: ${name}`, () => {
    let subject: RuntimeContractSubject;
    before(async () => {
      subject = await makeSubject();
      await subject.runtime.load();
    });
    after(async () => {
      await subject?.runtime.close();
      await subject?.runtime.close(); // closing twice must be safe
      await subject?.dispose?.();
    });

    it("declares kinds that match the methods it implements", () => {
      const { runtime } = subject;
      assert.ok(runtime.kinds.length > 0, "a runtime serves at least one kind");
      if (runtime.kinds.includes("chat")) {
        assert.equal(typeof runtime.chat, "function");
        assert.equal(typeof runtime.chatStream, "function");
      }
      if (runtime.kinds.includes("embeddings")) assert.equal(typeof runtime.embed, "function");
      if (runtime.kinds.includes("predict")) {
        assert.equal(typeof runtime.predict, "function");
        assert.equal(typeof runtime.predictMetadata, "function");
      }
    });

    it("is ready after load, and load is idempotent", async () => {
      await subject.runtime.load();
      assert.equal(subject.runtime.isReady(), true);
    });

    describe("chat", () => {
      it("answers a completion in OpenAI's shape with integer usage", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chat) return t.skip(`${runtime.type} serves no chat`);
        const result = await runtime.chat(
          { model, messages: [{ role: "user", content: "Say hello" }], max_tokens: 8, temperature: 0 },
          invokeContext(),
        );
        assert.equal(result.object, "chat.completion");
        assert.equal(typeof result.id, "string");
        assert.equal(result.choices.length, 1);
        assert.equal(result.choices[0]?.message.role, "assistant");
        assert.equal(typeof result.choices[0]?.message.content, "string");
        assert.ok(result.usage, "usage is reported");
        assert.ok(isNonNegativeInteger(result.usage.prompt_tokens));
        assert.ok(result.usage.prompt_tokens > 0, "the prompt has tokens");
        assert.ok(isNonNegativeInteger(result.usage.completion_tokens));
        assert.equal(result.usage.total_tokens, result.usage.prompt_tokens + result.usage.completion_tokens);
      });

      it("streams chunks and reports usage last when asked", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chatStream) return t.skip(`${runtime.type} serves no chat`);
        const stream = await runtime.chatStream(
          {
            model,
            messages: [{ role: "user", content: "Count to three" }],
            max_tokens: 8,
            temperature: 0,
            stream: true,
            stream_options: { include_usage: true },
          },
          invokeContext(),
        );
        const chunks = [];
        for await (const chunk of stream.chunks) chunks.push(chunk);
        assert.ok(chunks.length >= 2, "at least one content chunk and the usage chunk");
        for (const chunk of chunks) assert.equal(chunk.object, "chat.completion.chunk");
        const last = chunks[chunks.length - 1];
        assert.ok(last?.usage, "the last chunk carries usage");
        assert.ok(isNonNegativeInteger(last.usage.completion_tokens));
        assert.ok(
          chunks.some((chunk) => chunk.choices[0]?.finish_reason),
          "one chunk carries a finish_reason",
        );
      });

      it("knows a stream's usage at its end even when the caller asked for no usage chunk", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chatStream) return t.skip(`${runtime.type} serves no chat`);
        const stream = await runtime.chatStream(
          { model, messages: [{ role: "user", content: "Count to three" }], max_tokens: 8, stream: true },
          invokeContext(),
        );
        for await (const chunk of stream.chunks) assert.ok(!chunk.usage, "no usage chunk was asked for");
        assert.equal(typeof stream.usage, "function", "streams expose usage() for metering");
        const usage = stream.usage?.();
        assert.ok(usage, "usage is known once the stream has ended");
        assert.ok(isNonNegativeInteger(usage.prompt_tokens) && usage.prompt_tokens > 0);
        assert.ok(isNonNegativeInteger(usage.completion_tokens));
      });

      it("releases the stream when the consumer stops early, and keeps serving", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chatStream || !runtime.chat)
          return t.skip(`${runtime.type} serves no chat`);
        const stream = await runtime.chatStream(
          { model, messages: [{ role: "user", content: "Tell a long story" }], max_tokens: 32, stream: true },
          invokeContext(),
        );
        for await (const _chunk of stream.chunks) break;
        const again = await runtime.chat(
          { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 },
          invokeContext(),
        );
        assert.equal(again.object, "chat.completion");
      });

      it("rejects with a ModelportError when the signal is already aborted", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chat) return t.skip(`${runtime.type} serves no chat`);
        const controller = new AbortController();
        controller.abort();
        await assert.rejects(
          runtime.chat(
            { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 4 },
            invokeContext({ signal: controller.signal }),
          ),
          (error: unknown) => error instanceof ModelportError,
        );
      });

      it("serves concurrent requests", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("chat") || !runtime.chat) return t.skip(`${runtime.type} serves no chat`);
        const chat = runtime.chat.bind(runtime);
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) =>
            chat({ model, messages: [{ role: "user", content: `Request ${n}` }], max_tokens: 4 }, invokeContext()),
          ),
        );
        for (const result of results) assert.equal(result.object, "chat.completion");
      });
    });

    describe("embeddings", () => {
      it("embeds a batch in input order with equal, finite dimensions", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("embeddings") || !runtime.embed)
          return t.skip(`${runtime.type} serves no embeddings`);
        const result = await runtime.embed({ model, input: ["first text", "second, longer text"] }, invokeContext());
        assert.equal(result.object, "list");
        assert.equal(result.data.length, 2);
        for (const [index, item] of result.data.entries()) assert.equal(item.index, index);
        const [first, second] = result.data.map((item) => item.embedding);
        assert.ok(Array.isArray(first) && Array.isArray(second));
        assert.ok(first.length > 0);
        assert.equal(first.length, second.length);
        for (const value of [...first, ...second]) assert.ok(Number.isFinite(value));
        assert.ok(isNonNegativeInteger(result.usage.prompt_tokens));
        assert.ok(result.usage.prompt_tokens > 0);
      });

      it("embeds a single string", async (t) => {
        const { runtime, model } = subject;
        if (!runtime.kinds.includes("embeddings") || !runtime.embed)
          return t.skip(`${runtime.type} serves no embeddings`);
        const result = await runtime.embed({ model, input: "just one" }, invokeContext());
        assert.equal(result.data.length, 1);
      });
    });

    describe("predict", () => {
      it("describes its input and output tensors", async (t) => {
        const { runtime } = subject;
        if (!runtime.kinds.includes("predict") || !runtime.predictMetadata)
          return t.skip(`${runtime.type} serves no predict`);
        const metadata = await runtime.predictMetadata();
        assert.ok(metadata.inputs.length > 0);
        assert.ok(metadata.outputs.length > 0);
        assert.equal(typeof metadata.platform, "string");
      });

      it("infers tensors whose data length matches their shape", async (t) => {
        const { runtime, predict } = subject;
        if (!runtime.kinds.includes("predict") || !runtime.predict || !predict)
          return t.skip(`${runtime.type} serves no predict`);
        const result = await runtime.predict(predict.request, invokeContext());
        assert.deepEqual(result.outputs.map((output) => output.name).sort(), [...predict.outputNames].sort());
        for (const output of result.outputs) {
          const size = output.shape.reduce((product, dim) => product * dim, 1);
          assert.equal(output.data.length, size, `${output.name}: data length equals shape product`);
        }
      });

      it("rejects a malformed request with MP_INVALID_REQUEST and keeps serving", async (t) => {
        const { runtime, predict } = subject;
        if (!runtime.kinds.includes("predict") || !runtime.predict || !predict)
          return t.skip(`${runtime.type} serves no predict`);
        await assert.rejects(runtime.predict(predict.invalidRequest, invokeContext()), (error: unknown) => {
          assert.ok(error instanceof ModelportError);
          assert.equal(error.code, "MP_INVALID_REQUEST");
          return true;
        });
        const result = await runtime.predict(predict.request, invokeContext());
        assert.ok(result.outputs.length > 0);
      });

      it("serves concurrent predictions", async (t) => {
        const { runtime, predict } = subject;
        if (!runtime.kinds.includes("predict") || !runtime.predict || !predict)
          return t.skip(`${runtime.type} serves no predict`);
        const run = runtime.predict.bind(runtime);
        const results = await Promise.all([1, 2, 3, 4].map(() => run(predict.request, invokeContext())));
        for (const result of results) assert.equal(result.outputs.length, predict.outputNames.length);
      });
    });
  });
}
