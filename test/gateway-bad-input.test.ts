import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type MockOpenAIUpstream, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";

/** Bad input gets a clear error with a stable code, never a 500, and the server keeps serving. */
describe("bad input", () => {
  let upstream: MockOpenAIUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockOpenAIUpstream();
    gateway = await startTestGateway({
      server: { bodyLimitBytes: 10_000 },
      providers: { up: { type: "openai", baseUrl: upstream.url } },
      endpoints: {
        chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] },
        embed: { kind: "embeddings", targets: [{ provider: "up", model: "m" }] },
      },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  async function expectError(response: Response, status: number, code: string, param?: string) {
    assert.equal(response.status, status);
    assert.ok(response.headers.get("x-request-id"));
    const body = (await response.json()) as {
      error: { message: string; modelport_code: string; param: string | null };
    };
    assert.equal(body.error.modelport_code, code);
    assert.ok(body.error.message.length > 10, "a message a person can act on");
    if (param !== undefined) assert.equal(body.error.param, param);
  }

  it("413 for a body over the limit (declared or chunked)", async () => {
    const big = JSON.stringify({ model: "chat", messages: [{ role: "user", content: "x".repeat(20_000) }] });
    await expectError(await gateway.call("/v1/chat/completions", big), 413, "MP_BODY_TOO_LARGE");
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await gateway.call("/v1/chat/completions", undefined, {
      method: "POST",
      body: chunked,
      duplex: "half",
    } as RequestInit);
    await expectError(response, 413, "MP_BODY_TOO_LARGE");
  });

  it("400 for invalid JSON and for an empty body", async () => {
    await expectError(await gateway.call("/v1/chat/completions", "{not json"), 400, "MP_INVALID_JSON");
    await expectError(await gateway.call("/v1/chat/completions", ""), 400, "MP_INVALID_JSON");
  });

  it("400 naming the field for schema errors", async () => {
    await expectError(
      await gateway.call("/v1/chat/completions", { model: "chat" }),
      400,
      "MP_INVALID_REQUEST",
      "messages",
    );
    await expectError(
      await gateway.call("/v1/chat/completions", { model: "chat", messages: [{ role: "user", content: 5 }] }),
      400,
      "MP_INVALID_REQUEST",
      "messages.0.content",
    );
    await expectError(
      await gateway.call("/v1/chat/completions", {
        model: "chat",
        messages: [{ role: "user", content: "x" }],
        temperature: 9,
      }),
      400,
      "MP_INVALID_REQUEST",
      "temperature",
    );
    await expectError(
      await gateway.call("/v1/embeddings", { model: "embed", input: [] }),
      400,
      "MP_INVALID_REQUEST",
      "input",
    );
    await expectError(await gateway.call("/v1/chat/completions", [1, 2]), 400, "MP_INVALID_REQUEST");
  });

  it("404 for an unknown model, 400 for the wrong kind of endpoint", async () => {
    await expectError(
      await gateway.call("/v1/chat/completions", { model: "nope", messages: [{ role: "user", content: "x" }] }),
      404,
      "MP_UNKNOWN_MODEL",
      "model",
    );
    await expectError(
      await gateway.call("/v1/embeddings", { model: "chat", input: "x" }),
      400,
      "MP_WRONG_ENDPOINT_KIND",
      "model",
    );
  });

  it("401 without a key, with a malformed key and with an unknown key", async () => {
    for (const authorization of [undefined, "Bearer nonsense", "Bearer mp_0000000000000000000000000000000000000000"]) {
      const response = await fetch(`${gateway.url}/v1/models`, authorization ? { headers: { authorization } } : {});
      await expectError(response, 401, "MP_UNAUTHORIZED");
    }
  });

  it("404 in the protocol's shape for unknown routes", async () => {
    const response = await gateway.call("/v1/nothing-here");
    await expectError(response, 404, "MP_NOT_FOUND");
  });

  it("never answers 500 to random garbage, and keeps serving", async () => {
    const bodies = [
      "null",
      "true",
      '"string"',
      "{}",
      '{"model":null}',
      '{"model":"chat","messages":"x"}',
      '{"model":"chat","messages":[null]}',
      '{"model":"chat","messages":[{"role":"user"}],"stream":"yes"}',
      '{"model":"chat","messages":[{"role":"user","content":"x"}],"max_tokens":-1}',
      '{"model":"chat","messages":[{"role":"user","content":"x"}],"stop":[1]}',
      `{"model":"chat","messages":[${"[".repeat(5000)}${"]".repeat(5000)}]}`,
      "\u0000\u0001\u0002",
    ];
    for (const body of bodies) {
      const response = await gateway.call("/v1/chat/completions", body);
      assert.ok(response.status >= 400 && response.status < 500, `${body.slice(0, 40)} → ${response.status}`);
      await response.arrayBuffer();
    }
    const ok = await gateway.call("/v1/chat/completions", {
      model: "chat",
      messages: [{ role: "user", content: "x" }],
    });
    assert.equal(ok.status, 200);
  });

  it("maps an upstream that is down to 503 and invalid upstream JSON to 502", async () => {
    upstream.enqueue({ type: "invalidJson" }, { type: "invalidJson" });
    const invalid = await gateway.call("/v1/chat/completions", {
      model: "chat",
      messages: [{ role: "user", content: "x" }],
    });
    await expectError(invalid, 502, "MP_UPSTREAM_BAD_RESPONSE");
  });
});
