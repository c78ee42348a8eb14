import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { stringify } from "yaml";
import { writeTinyGguf } from "./fixtures/gguf-model.js";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli, type ServeProcess, startServeProcess } from "./helpers/cli.js";

/**
 * The official `openai` npm client, unchanged, against a real `modelport serve` process: chat,
 * streaming chat, embeddings from a GGUF model and from an upstream, the model list, and the
 * client's error classes. Ends with SIGTERM draining a stream in flight.
 */
describe("openai client against modelport serve", () => {
  let dir: string;
  let upstream: MockOpenAIUpstream;
  let serve: ServeProcess;
  let client: OpenAI;
  let apiKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-openai-"));
    upstream = await startMockOpenAIUpstream({ embeddingDimensions: 16 });
    await writeTinyGguf(join(dir, "tiny.gguf"));
    const config = {
      logging: { level: "warn" },
      providers: {
        upstream: { type: "openai", baseUrl: upstream.url, apiKey: "${UPSTREAM_KEY}" },
        local: { type: "gguf", path: "./tiny.gguf", idleTimeoutMs: 0, contextSize: 256, threads: 1 },
      },
      endpoints: {
        "chat-upstream": { kind: "chat", targets: [{ provider: "upstream", model: "mock-model" }] },
        "embed-upstream": { kind: "embeddings", targets: [{ provider: "upstream", model: "mock-model" }] },
        "chat-local": { kind: "chat", targets: [{ provider: "local" }] },
        "embed-local": { kind: "embeddings", targets: [{ provider: "local" }] },
      },
    };
    await writeFile(join(dir, "modelport.yaml"), stringify(config));
    const env = { UPSTREAM_KEY: "sk-upstream-secret", MODELPORT_ADMIN_TOKEN: "" };
    const storageFlags = ["--config", join(dir, "modelport.yaml"), "--data-dir", join(dir, "data")];

    const tenant = await runCli(["tenants", "create", "acme", "--json", ...storageFlags], env);
    assert.equal(tenant.code, 0, tenant.stderr);
    const key = await runCli(["keys", "create", "--tenant", "acme", "--name", "ci", "--json", ...storageFlags], env);
    assert.equal(key.code, 0, key.stderr);
    const created = JSON.parse(key.stdout) as { id: string; key: string; prefix: string; tenant: string };
    assert.deepEqual(Object.keys(created).sort(), ["id", "key", "prefix", "tenant"]);
    assert.equal(created.tenant, "acme");
    assert.ok(created.key.startsWith(created.prefix));
    apiKey = created.key;

    serve = await startServeProcess([...storageFlags, "--port", "0"], env);
    client = new OpenAI({ apiKey, baseURL: `${serve.url}/v1`, maxRetries: 0 });
  });

  after(async () => {
    if (serve && serve.child.exitCode === null) await serve.stop("SIGKILL");
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("printed the generated admin token once, at first start", () => {
    assert.match(serve.output().stdout, /admin token \(shown once[^)]*\): mpadmin_[0-9a-z]{40}/);
  });

  it("chats through an upstream, rewriting the model and passing the upstream's key", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "chat-upstream", messages: [{ role: "user", content: "Hello there" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from the mock upstream.");
    assert.equal(data.usage?.prompt_tokens, 2);
    assert.match(response.headers.get("x-request-id") ?? "", /^req_/);
    assert.match(response.headers.get("x-modelport-overhead-ms") ?? "", /^\d+\.\d{3}$/);
    const seen = upstream.requests.at(-1);
    assert.equal((seen?.body as { model?: string } | undefined)?.model, "mock-model");
    assert.equal(seen?.headers.authorization, "Bearer sk-upstream-secret");
  });

  it("streams chat with usage when asked", async () => {
    const stream = await client.chat.completions.create({
      model: "chat-upstream",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, "Hello from the mock upstream.");
    assert.ok(usage, "the usage chunk arrived");
    assert.equal(usage.completion_tokens, 5);
  });

  it("streams chat without a usage chunk when not asked", async () => {
    const stream = await client.chat.completions.create({
      model: "chat-upstream",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 1);
    assert.ok(
      chunks.every((chunk) => !chunk.usage),
      "no usage chunk",
    );
  });

  it("chats with the local GGUF model, plain and streaming", async () => {
    const completion = await client.chat.completions.create({
      model: "chat-local",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
    });
    assert.equal(completion.object, "chat.completion");
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    const stream = await client.chat.completions.create({
      model: "chat-local",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let sawUsage = false;
    for await (const chunk of stream) if (chunk.usage) sawUsage = (chunk.usage.completion_tokens ?? 0) >= 0;
    assert.ok(sawUsage);
  });

  it("embeds with the local GGUF model and through an upstream", async () => {
    const local = await client.embeddings.create({ model: "embed-local", input: ["one", "two"] });
    assert.equal(local.data.length, 2);
    assert.ok(local.data[0]?.embedding.length);
    assert.ok(local.data[0]?.embedding.every(Number.isFinite));
    const remote = await client.embeddings.create({ model: "embed-upstream", input: "text" });
    assert.equal(remote.data[0]?.embedding.length, 16);
  });

  it("lists every endpoint as a model", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.deepEqual(ids.sort(), ["chat-local", "chat-upstream", "embed-local", "embed-upstream"]);
  });

  it("raises AuthenticationError for a bad key", async () => {
    const bad = new OpenAI({
      apiKey: "mp_0000000000000000000000000000000000000000",
      baseURL: `${serve.url}/v1`,
      maxRetries: 0,
    });
    await assert.rejects(bad.models.list(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal(error.status, 401);
      return true;
    });
  });

  it("raises NotFoundError for an unknown model", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.NotFoundError);
        assert.equal(error.status, 404);
        assert.equal(error.code, "model_not_found");
        return true;
      },
    );
  });

  it("raises BadRequestError naming the field for an invalid body", async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: "chat-upstream",
        messages: [{ role: "wizard", content: "x" }] as never,
      }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.param, "messages.0.role");
        return true;
      },
    );
  });

  it("raises RateLimitError when the upstream rate-limits and nothing else can serve", async () => {
    upstream.enqueue(
      mockBehaviour.status(429, { retryAfter: "120" }),
      mockBehaviour.status(429, { retryAfter: "120" }),
    );
    await assert.rejects(
      client.chat.completions.create({ model: "chat-upstream", messages: [{ role: "user", content: "x" }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError);
        return true;
      },
    );
    upstream.reset();
  });

  it("drains a stream in flight on SIGTERM, refuses new work, and exits 0", async () => {
    upstream.enqueue(mockBehaviour.slowChunks(150, { content: ["a ", "b ", "c ", "d ", "e"] }));
    const stream = await client.chat.completions.create({
      model: "chat-upstream",
      messages: [{ role: "user", content: "slow" }],
      stream: true,
    });
    let text = "";
    let signalled = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (!signalled && text.length > 0) {
        signalled = true;
        serve.child.kill("SIGTERM");
      }
    }
    assert.equal(text, "a b c d e");
    assert.equal(await serve.exited, 0);
    await assert.rejects(fetch(`${serve.url}/v2/health/live`));
  });
});
