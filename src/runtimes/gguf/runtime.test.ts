import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tinyGgufSpec, writeTinyGguf } from "../../../test/fixtures/gguf-model.js";
import { ModelportError } from "../../core/errors.js";
import type { ChatCompletionChunk, ChatCompletionRequest, EmbeddingsRequest } from "../../core/openai-types.js";
import { invokeContext, runtimeContractSuite } from "../../core/testing/runtime-contract.js";
import { createGgufRuntime, type GgufRuntime, type GgufRuntimeOptions } from "./runtime.js";

// One tiny model file for the whole file; each runtime loads it on its own (well under a second).
// One thread: for a model this small, thread sync costs more than it saves, and on a busy 2-core
// machine a second spinning llama.cpp thread made generation ~20x slower.
const directory = await mkdtemp(join(tmpdir(), "modelport-gguf-"));
const modelPath = join(directory, "tiny.gguf");
await writeTinyGguf(modelPath, { seed: 1 });
after(() => rm(directory, { recursive: true, force: true }));

const runtimes: GgufRuntime[] = [];
function makeRuntime(options: Partial<GgufRuntimeOptions> = {}): GgufRuntime {
  const runtime = createGgufRuntime({ path: modelPath, contextSize: 256, threads: 1, ...options });
  runtimes.push(runtime);
  return runtime;
}
after(async () => {
  for (const runtime of runtimes) await runtime.close();
});

function embedWith(runtime: GgufRuntime, request: EmbeddingsRequest, context = invokeContext()) {
  assert.ok(runtime.embed, "embeddings are enabled");
  return runtime.embed(request, context);
}

const ask = (content: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model: "tiny",
  messages: [{ role: "user", content }],
  max_tokens: 6,
  temperature: 0,
  ...extra,
});

function isModelportError(code: string, param?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ModelportError, `expected a ModelportError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (param !== undefined) assert.equal(error.param, param);
    return true;
  };
}

/** Fails instead of hanging when a sequence is never released. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

runtimeContractSuite("gguf", async () => ({ runtime: makeRuntime({ maxConcurrency: 2 }), model: "tiny" }));

describe("gguf runtime", () => {
  let runtime: GgufRuntime;
  before(async () => {
    runtime = makeRuntime({ maxConcurrency: 2 });
    await runtime.load();
  });

  it("reports exact token usage and finish_reason length at max_tokens", async () => {
    const result = await runtime.chat(ask("Say hello", { max_tokens: 5 }), invokeContext());
    assert.ok(result?.usage);
    assert.equal(result.choices[0]?.finish_reason, "length");
    assert.equal(result.usage.completion_tokens, 5);
    // `▁hello` is one vocabulary piece: one more word costs exactly one more prompt token.
    const longer = await runtime.chat(ask("Say hello hello", { max_tokens: 1 }), invokeContext());
    assert.equal(longer?.usage?.prompt_tokens, result.usage.prompt_tokens + 1);
  });

  it("streams the same tokens and usage as a non-streamed call", async () => {
    const request = ask("Count to three", { max_tokens: 8, seed: 7 });
    const plain = await runtime.chat(request, invokeContext());
    const stream = await runtime.chatStream(
      { ...request, stream: true, stream_options: { include_usage: true } },
      invokeContext(),
    );
    assert.ok(plain && stream);
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream.chunks) chunks.push(chunk);
    assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
    const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason);
    assert.equal(finishes.length, 1);
    assert.equal(finishes[0]?.choices[0]?.finish_reason, plain.choices[0]?.finish_reason);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    assert.equal(text, plain.choices[0]?.message.content);
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual(last?.usage, plain.usage);
    assert.deepEqual(stream.usage?.(), plain.usage);
    assert.ok(new Set(chunks.map((chunk) => chunk.id)).size === 1, "one id for the whole stream");
  });

  it("omits the usage chunk unless include_usage is set", async () => {
    const stream = await runtime.chatStream({ ...ask("Hi"), stream: true }, invokeContext());
    assert.ok(stream);
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream.chunks) chunks.push(chunk);
    assert.ok(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1));
    assert.ok(chunks.at(-1)?.choices[0]?.finish_reason);
  });

  it("is deterministic for a fixed seed, at temperature 0 and above", async () => {
    const greedy = ask("Tell a story", { max_tokens: 10 });
    const first = await runtime.chat(greedy, invokeContext());
    const second = await runtime.chat(greedy, invokeContext());
    assert.equal(first?.choices[0]?.message.content, second?.choices[0]?.message.content);

    const sampled = (seed: number) =>
      runtime.chat(ask("Tell a story", { max_tokens: 10, temperature: 1, seed }), invokeContext());
    // One after the other: llama.cpp's numerics may differ when sequences share a batch.
    const a = await sampled(42);
    const b = await sampled(42);
    assert.equal(a?.choices[0]?.message.content, b?.choices[0]?.message.content);
    const others = [await sampled(1), await sampled(2), await sampled(3)];
    const distinct = new Set([a, ...others].map((result) => result?.choices[0]?.message.content));
    assert.ok(distinct.size > 1, "different seeds sample different text");
  });

  it("stops at a stop sequence and excludes it from the content", async () => {
    const request = ask("Tell a long story", { max_tokens: 16 });
    const full = (await runtime.chat(request, invokeContext()))?.choices[0]?.message.content ?? "";
    const stop = /[a-z]{2,}/.exec(full)?.[0];
    assert.ok(stop, `the greedy text has a word to stop at: ${JSON.stringify(full)}`);
    const stopped = await runtime.chat({ ...request, stop: [stop] }, invokeContext());
    const content = stopped?.choices[0]?.message.content ?? "";
    assert.equal(stopped?.choices[0]?.finish_reason, "stop");
    assert.ok(content.length < full.length && !content.includes(stop));
    // Text before the stop matches, except incomplete UTF-8 bytes held back at the cut (U+FFFD).
    const clean = (text: string) => text.replaceAll("\uFFFD", "");
    assert.equal(clean(content), clean(full.slice(0, full.indexOf(stop))));
  });

  it("serves 4 concurrent chats with 2 sequences (the rest wait their turn)", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => runtime.chat(ask(`Request ${n}`, { max_tokens: 4 }), invokeContext())),
    );
    for (const result of results) {
      assert.equal(result?.object, "chat.completion");
      assert.equal(result?.usage?.completion_tokens, 4);
    }
  });

  it("rejects a prompt longer than the context with MP_INVALID_REQUEST, then keeps serving", async () => {
    await assert.rejects(runtime.chat(ask("hello ".repeat(300)), invokeContext()), (error: unknown) => {
      isModelportError("MP_INVALID_REQUEST", "messages")(error);
      assert.match((error as Error).message, /context holds \d+ tokens/);
      return true;
    });
    const again = await runtime.chat(ask("Hi"), invokeContext());
    assert.equal(again?.object, "chat.completion");
  });

  it("caps max_tokens to the room left in the context", async () => {
    const result = await runtime.chat(ask("hello ".repeat(200), { max_tokens: 1000 }), invokeContext());
    assert.ok(result?.usage);
    assert.ok(result.usage.total_tokens < 256, `total ${result.usage.total_tokens} fits the 256-token context`);
  });

  it("rejects requests it cannot honour before generating", async () => {
    const chat = (request: ChatCompletionRequest) => runtime.chat(request, invokeContext());
    await assert.rejects(chat(ask("Hi", { max_tokens: 0 })), isModelportError("MP_INVALID_REQUEST", "max_tokens"));
    await assert.rejects(chat(ask("Hi", { temperature: 3 })), isModelportError("MP_INVALID_REQUEST", "temperature"));
    await assert.rejects(chat({ ...ask("Hi"), messages: [] }), isModelportError("MP_INVALID_REQUEST", "messages"));
    await assert.rejects(
      chat({ ...ask("Hi"), tools: [{ type: "function", function: { name: "f" } }] }),
      isModelportError("MP_UNSUPPORTED", "tools"),
    );
    await assert.rejects(
      chat({
        ...ask("Hi"),
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }],
      }),
      isModelportError("MP_UNSUPPORTED", "messages.0.content.0"),
    );
  });

  it("joins text content parts and accepts system and assistant turns", async () => {
    const parts = await runtime.chat(
      {
        ...ask(""),
        messages: [
          { role: "system", content: "You are helpful" },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "hello" },
          {
            role: "user",
            content: [
              { type: "text", text: "Say " },
              { type: "text", text: "hello" },
            ],
          },
        ],
      },
      invokeContext(),
    );
    const joined = await runtime.chat(
      {
        ...ask(""),
        messages: [
          { role: "system", content: "You are helpful" },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "hello" },
          { role: "user", content: "Say hello" },
        ],
      },
      invokeContext(),
    );
    assert.deepEqual(parts?.usage, joined?.usage);
    assert.equal(parts?.choices[0]?.message.content, joined?.choices[0]?.message.content);
  });

  describe("embeddings", () => {
    it("returns unit-length vectors of the model's width with exact token counts", async () => {
      const result = await embedWith(runtime, { model: "tiny", input: ["hello", "hello hello"] }, invokeContext());
      assert.ok(result);
      for (const item of result.data) {
        assert.ok(Array.isArray(item.embedding));
        assert.equal(item.embedding.length, tinyGgufSpec.embeddingLength);
        const norm = Math.sqrt(item.embedding.reduce((sum, value) => sum + value * value, 0));
        assert.ok(Math.abs(norm - 1) < 1e-6, `norm ${norm}`);
      }
      // BOS + `▁hello` and BOS + `▁hello ▁hello`.
      assert.equal(result.usage.prompt_tokens, 2 + 3);
      const again = await embedWith(runtime, { model: "tiny", input: "hello" }, invokeContext());
      assert.deepEqual(again?.data[0]?.embedding, result.data[0]?.embedding);
    });

    it("accepts token ids and base64 output", async () => {
      const tokens = await embedWith(runtime, { model: "tiny", input: [[1, 300, 301], [5]] }, invokeContext());
      assert.equal(tokens?.data.length, 2);
      assert.equal(tokens?.usage.prompt_tokens, 3 + 2); // BOS is already first in the first array
      const floats = await embedWith(runtime, { model: "tiny", input: "hello" }, invokeContext());
      const encoded = await embedWith(
        runtime,
        { model: "tiny", input: "hello", encoding_format: "base64" },
        invokeContext(),
      );
      const base64 = encoded?.data[0]?.embedding;
      assert.equal(typeof base64, "string");
      const bytes = Buffer.from(base64 as string, "base64");
      const decoded = Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
      const expected = ((floats.data[0]?.embedding ?? []) as number[]).map((value) => Math.fround(value));
      assert.deepEqual(decoded, expected);
    });

    it("rejects empty, out-of-vocabulary and oversized input", async () => {
      const embed = (input: unknown) => embedWith(runtime, { model: "tiny", input: input as string }, invokeContext());
      await assert.rejects(embed(""), isModelportError("MP_INVALID_REQUEST", "input.0"));
      await assert.rejects(embed([]), isModelportError("MP_INVALID_REQUEST", "input"));
      await assert.rejects(embed([[1, 99_999]]), isModelportError("MP_INVALID_REQUEST", "input.0"));
      await assert.rejects(embed(["ok", "hello ".repeat(300)]), isModelportError("MP_INVALID_REQUEST", "input.1"));
      await assert.rejects(
        embedWith(runtime, { model: "tiny", input: "hi", dimensions: 8 }, invokeContext()),
        isModelportError("MP_UNSUPPORTED", "dimensions"),
      );
    });
  });
});

describe("gguf runtime cancellation", () => {
  // One sequence: a request that failed to free it would block the next one forever.
  let runtime: GgufRuntime;
  before(async () => {
    runtime = makeRuntime({ maxConcurrency: 1 });
    await runtime.load();
  });
  // Capped to the ~220 tokens the context leaves: long enough to still be running when we act.
  const longStory = ask("Tell a long story", { max_tokens: 250, stream: true });

  it("frees the sequence when the consumer breaks mid-stream", async () => {
    const stream = await runtime.chatStream(longStory, invokeContext());
    assert.ok(stream);
    let seen = 0;
    assert.equal(stream.usage?.(), undefined, "usage is unknown while generating");
    for await (const _chunk of stream.chunks) if (++seen === 3) break;
    assert.equal(seen, 3);
    // Metering still learns what was generated before the consumer left.
    const usage = stream.usage?.();
    assert.ok(usage && usage.prompt_tokens > 0);
    assert.ok(usage.completion_tokens >= 2 && usage.completion_tokens < 250, `${usage.completion_tokens} tokens`);
    const next = await within(runtime.chat(ask("Hi"), invokeContext()), 10_000, "next chat");
    assert.equal(next?.object, "chat.completion");
  });

  it("frees the sequence when the consumer returns before reading", async () => {
    const stream = await runtime.chatStream(longStory, invokeContext());
    assert.ok(stream);
    await stream.chunks[Symbol.asyncIterator]().return?.();
    const next = await within(runtime.chat(ask("Hi"), invokeContext()), 10_000, "next chat");
    assert.equal(next?.object, "chat.completion");
  });

  it("ends a stream with MP_UPSTREAM_TIMEOUT when the request signal aborts, and keeps serving", async () => {
    const controller = new AbortController();
    const stream = await runtime.chatStream(longStory, invokeContext({ signal: controller.signal }));
    assert.ok(stream);
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const _chunk of stream.chunks) if (++seen === 2) controller.abort();
      })(),
      isModelportError("MP_UPSTREAM_TIMEOUT"),
    );
    assert.equal(seen, 2, "nothing is delivered after the abort");
    const next = await within(runtime.chat(ask("Hi"), invokeContext()), 10_000, "next chat");
    assert.equal(next?.object, "chat.completion");
  });

  it("keeps a gateway's own abort reason", async () => {
    const controller = new AbortController();
    controller.abort(new ModelportError("MP_SHUTTING_DOWN", "draining"));
    await assert.rejects(
      runtime.chat(ask("Hi"), invokeContext({ signal: controller.signal })),
      isModelportError("MP_SHUTTING_DOWN"),
    );
  });

  it("lets a request waiting for a sequence give up when its signal aborts", async () => {
    const busy = await runtime.chatStream(longStory, invokeContext()); // holds the only sequence
    assert.ok(busy);
    const waiting = runtime.chat(ask("Hi"), invokeContext({ signal: AbortSignal.timeout(30) }));
    await assert.rejects(waiting, isModelportError("MP_UPSTREAM_TIMEOUT"));
    await busy.chunks[Symbol.asyncIterator]().return?.();
    const next = await within(runtime.chat(ask("Hi"), invokeContext()), 10_000, "next chat");
    assert.equal(next?.object, "chat.completion");
  });
});

describe("gguf runtime lifecycle", () => {
  it("unloads after the idle timeout and reloads transparently", async () => {
    const runtime = makeRuntime({ idleTimeoutMs: 150 });
    assert.equal(runtime.isLoaded(), false);
    assert.equal(runtime.isReady(), true, "loadable before the first load");
    await runtime.load();
    assert.equal(runtime.isLoaded(), true);
    const deadline = Date.now() + 5_000;
    while (runtime.isLoaded() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runtime.isLoaded(), false, "unloaded once idle");
    assert.equal(runtime.isReady(), true, "still ready: it reloads on demand");
    const result = await runtime.chat(ask("Hi"), invokeContext());
    assert.equal(result?.object, "chat.completion");
    assert.equal(runtime.loadCount, 2);
  });

  it("loads once for concurrent first requests", async () => {
    const runtime = makeRuntime({ idleTimeoutMs: 0 });
    await Promise.all([runtime.load(), runtime.load(), runtime.chat(ask("Hi"), invokeContext())]);
    assert.equal(runtime.loadCount, 1);
  });

  it("reports a missing file as MP_MODEL_NOT_READY naming the path", async () => {
    const path = join(directory, "missing.gguf");
    const runtime = createGgufRuntime({ path });
    assert.equal(runtime.isReady(), false);
    await assert.rejects(runtime.load(), (error: unknown) => {
      isModelportError("MP_MODEL_NOT_READY")(error);
      assert.ok((error as Error).message.includes(path));
      return true;
    });
    await assert.rejects(runtime.chat(ask("Hi"), invokeContext()), isModelportError("MP_MODEL_NOT_READY"));
    await runtime.close();
  });

  it("reports a corrupt file as MP_MODEL_NOT_READY and is not ready afterwards", async () => {
    const path = join(directory, "corrupt.gguf");
    const valid = await import("node:fs/promises").then((fs) => fs.readFile(modelPath));
    await writeFile(path, valid.subarray(0, valid.length / 2)); // truncated: tensor data out of bounds
    const runtime = createGgufRuntime({ path });
    assert.equal(runtime.isReady(), true, "the file exists, so it looks loadable");
    await assert.rejects(runtime.load(), (error: unknown) => {
      isModelportError("MP_MODEL_NOT_READY")(error);
      assert.ok((error as Error).message.includes(path));
      return true;
    });
    assert.equal(runtime.isReady(), false);
    await runtime.close();
  });

  it("rejects invalid options with MP_CONFIG_INVALID", () => {
    for (const options of [{ maxConcurrency: 0 }, { contextSize: 1.5 }, { idleTimeoutMs: -1 }, { path: "" }]) {
      assert.throws(() => createGgufRuntime({ path: modelPath, ...options }), isModelportError("MP_CONFIG_INVALID"));
    }
  });

  it("closes safely twice and refuses work afterwards", async () => {
    const runtime = createGgufRuntime({ path: modelPath, contextSize: 256, threads: 1, embeddings: false });
    assert.deepEqual(runtime.kinds, ["chat"]);
    assert.equal(runtime.embed, undefined);
    await runtime.load();
    await runtime.close();
    await runtime.close();
    assert.equal(runtime.isReady(), false);
    assert.equal(runtime.isLoaded(), false);
    await assert.rejects(runtime.chat(ask("Hi"), invokeContext()), isModelportError("MP_MODEL_NOT_READY"));
  });
});
