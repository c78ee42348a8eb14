import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { readSseEvents, startTestGateway, type TestGateway } from "./helpers/gateway.js";

/**
 * Routing through the real server with misbehaving upstreams (real HTTP servers on loopback):
 * canary split, sticky assignment, shadow, fallback, retry, timeouts, breaker, and streams that
 * fail before and after their first chunk.
 */
describe("gateway routing with misbehaving upstreams", () => {
  let primary: MockOpenAIUpstream;
  let secondary: MockOpenAIUpstream;
  let shadow: MockOpenAIUpstream;
  let gateway: TestGateway;
  const chat = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    gateway.call(
      "/v1/chat/completions",
      { model, messages: [{ role: "user", content: "hello" }], ...extra },
      { headers },
    );

  before(async () => {
    primary = await startMockOpenAIUpstream();
    secondary = await startMockOpenAIUpstream();
    shadow = await startMockOpenAIUpstream();
    const fast = { baseDelayMs: 1, maxDelayMs: 5 };
    gateway = await startTestGateway({
      providers: {
        a: { type: "openai", baseUrl: primary.url },
        b: { type: "openai", baseUrl: secondary.url },
        s: { type: "openai", baseUrl: shadow.url },
      },
      endpoints: {
        canary: {
          kind: "chat",
          targets: [
            { provider: "a", model: "m", weight: 80 },
            { provider: "b", model: "m", weight: 20 },
          ],
        },
        sticky: {
          kind: "chat",
          sticky: "user",
          targets: [
            { provider: "a", model: "m", weight: 50 },
            { provider: "b", model: "m", weight: 50 },
          ],
        },
        fallback: {
          kind: "chat",
          targets: [{ provider: "a", model: "m" }],
          fallbacks: [{ provider: "b", model: "m" }],
          retry: { maxAttempts: 2, ...fast },
          breaker: { failureThreshold: 1000 },
        },
        timeouts: {
          kind: "chat",
          targets: [{ provider: "a", model: "m" }],
          fallbacks: [{ provider: "b", model: "m" }],
          retry: { maxAttempts: 1, ...fast },
          timeouts: { firstByteMs: 300, totalMs: 1_000 },
          breaker: { failureThreshold: 1000 },
        },
        breaker: {
          kind: "chat",
          targets: [{ provider: "a", model: "m" }],
          fallbacks: [{ provider: "b", model: "m" }],
          retry: { maxAttempts: 1, ...fast },
          breaker: { failureThreshold: 3, cooldownMs: 400 },
        },
        shadowed: {
          kind: "chat",
          targets: [{ provider: "a", model: "m" }],
          shadow: [{ provider: "s", model: "m", sampleRate: 1 }],
        },
      },
    });
  });

  after(async () => {
    await gateway?.close();
    await Promise.all([primary?.close(), secondary?.close(), shadow?.close()]);
  });

  beforeEach(() => {
    primary.reset();
    secondary.reset();
    shadow.reset();
  });

  it("splits traffic by weight (canary)", async () => {
    const total = 200;
    for (let index = 0; index < total; index++) assert.equal((await chat("canary")).status, 200);
    const share = primary.requests.length / total;
    assert.equal(primary.requests.length + secondary.requests.length, total);
    assert.ok(share > 0.7 && share < 0.9, `primary share ${share} is near 0.8`);
  });

  it("pins a user to one target (sticky)", async () => {
    const users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    const first = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (const user of users) {
        const response = await chat("sticky", { user });
        assert.equal(response.status, 200);
        const servedByA = primary.requests.some((request) => (request.body as { user?: string }).user === user);
        const servedByB = secondary.requests.some((request) => (request.body as { user?: string }).user === user);
        assert.notEqual(servedByA, servedByB, "exactly one target served the request");
        const where = servedByA ? "a" : "b";
        primary.reset();
        secondary.reset();
        if (round === 0) first.set(user, where);
        else assert.equal(where, first.get(user), `${user} stays on one target`);
      }
    }
    assert.equal(new Set(first.values()).size, 2, "users spread over both targets");
  });

  it("retries a retryable failure on the same target, then succeeds", async () => {
    primary.enqueue(mockBehaviour.status(503));
    const response = await chat("fallback");
    assert.equal(response.status, 200);
    assert.equal(primary.requests.length, 2);
    assert.equal(secondary.requests.length, 0);
  });

  it("falls back in order after retries are spent, for errors and connection resets", async () => {
    primary.enqueue(mockBehaviour.status(500), mockBehaviour.reset());
    const response = await chat("fallback");
    assert.equal(response.status, 200);
    assert.equal(primary.requests.length, 2);
    assert.equal(secondary.requests.length, 1);
  });

  it("does not fall back on a client error from the upstream", async () => {
    primary.enqueue(mockBehaviour.status(400, { message: "bad temperature" }));
    const response = await chat("fallback");
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { message: string } };
    assert.match(body.error.message, /bad temperature/);
    assert.equal(secondary.requests.length, 0);
  });

  it("honours Retry-After between retries", async () => {
    primary.enqueue(mockBehaviour.status(429, { retryAfter: "1" }));
    const started = performance.now();
    const response = await chat("fallback");
    const elapsed = performance.now() - started;
    assert.equal(response.status, 200);
    assert.equal(primary.requests.length, 2);
    assert.ok(elapsed >= 900, `waited ${elapsed} ms for Retry-After: 1`);
  });

  it("times out a slow first byte and falls back", async () => {
    primary.enqueue(mockBehaviour.slowFirstByte(2_000));
    const response = await chat("timeouts");
    assert.equal(response.status, 200);
    assert.equal(secondary.requests.length, 1);
  });

  it("answers 504 when every target hangs past the total timeout", async () => {
    primary.enqueue(mockBehaviour.hang());
    secondary.enqueue(mockBehaviour.hang());
    const response = await chat("timeouts");
    assert.equal(response.status, 504);
    const body = (await response.json()) as { error: { modelport_code: string } };
    assert.equal(body.error.modelport_code, "MP_UPSTREAM_TIMEOUT");
  });

  it("falls back when a stream fails before its first chunk", async () => {
    primary.enqueue(mockBehaviour.truncatedStream(0));
    const response = await chat("timeouts", { stream: true });
    assert.equal(response.status, 200);
    const events = await readSseEvents(response);
    assert.equal(events.at(-1), "[DONE]");
    assert.equal(secondary.requests.length, 1);
  });

  it("ends a stream that breaks after its first chunk with an OpenAI error event", async () => {
    primary.enqueue(mockBehaviour.truncatedStream(2));
    const response = await chat("timeouts", { stream: true });
    assert.equal(response.status, 200);
    const events = await readSseEvents(response);
    const last = events.at(-1) as { error?: { message: string; type: string } };
    assert.ok(last.error, "the last event is an error");
    assert.equal(typeof last.error.message, "string");
    assert.ok(!events.includes("[DONE]"));
    assert.equal(secondary.requests.length, 0, "no fallback after the first chunk");
  });

  it("cancels the upstream request when the client disconnects mid-stream", async () => {
    primary.enqueue(mockBehaviour.slowChunks(200, { content: ["one ", "two ", "three ", "four ", "five"] }));
    const abortsBefore = primary.clientAborts;
    const response = await chat("timeouts", { stream: true });
    const reader = response.body?.getReader();
    assert.ok(reader);
    const first = await reader.read();
    assert.equal(first.done, false);
    await reader.cancel();
    await primary.waitForClientAborts(abortsBefore + 1, 3_000);
    assert.equal(primary.clientAborts, abortsBefore + 1, "the upstream saw the cancellation");
  });

  it("opens the breaker after repeated failures, then probes and closes after the cooldown", async () => {
    primary.setDefault(mockBehaviour.status(500));
    for (let index = 0; index < 3; index++) assert.equal((await chat("breaker")).status, 200);
    assert.equal(primary.requests.length, 3);
    // Open: the primary is skipped entirely.
    for (let index = 0; index < 3; index++) assert.equal((await chat("breaker")).status, 200);
    assert.equal(primary.requests.length, 3, "no calls reach an open breaker");
    const states = (await (await gateway.admin("/admin/v1/endpoints")).json()) as {
      data: { name: string; targets: { id: string; breaker: string }[] }[];
    };
    const breakerEndpoint = states.data.find((entry) => entry.name === "breaker");
    assert.equal(breakerEndpoint?.targets[0]?.breaker, "open");
    const metrics = await (await gateway.admin("/metrics")).text();
    assert.match(metrics, /modelport_circuit_breaker_state\{endpoint="breaker",target="a\/m"\} 2/);
    // After the cooldown one probe goes through; success closes the breaker.
    primary.setDefault(mockBehaviour.ok());
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.equal((await chat("breaker")).status, 200);
    assert.equal(primary.requests.length, 4, "the half-open probe reached the primary");
    assert.equal((await chat("breaker")).status, 200);
    assert.equal(primary.requests.length, 5, "closed again");
  });

  it("mirrors traffic to a shadow without affecting the answer, and records it", async () => {
    shadow.setDefault(mockBehaviour.ok({ content: "A different answer." }));
    const response = await chat("shadowed");
    assert.equal(response.status, 200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, "Hello from the mock upstream.");
    for (let waited = 0; waited < 2_000 && shadow.requests.length === 0; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(shadow.requests.length, 1);
    let metrics = "";
    for (let waited = 0; waited < 2_000; waited += 20) {
      metrics = await (await gateway.admin("/metrics")).text();
      if (/modelport_shadow_requests_total\{[^}]*endpoint="shadowed"[^}]*\} 1/.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(metrics, /modelport_shadow_requests_total\{endpoint="shadowed",target="s\/m",outcome="ok"\} 1/);
    assert.match(metrics, /modelport_shadow_diff_ratio_count\{endpoint="shadowed",target="s\/m"\} 1/);
  });

  it("keeps answering when the shadow fails", async () => {
    shadow.setDefault(mockBehaviour.status(500));
    const response = await chat("shadowed");
    assert.equal(response.status, 200);
  });
});
