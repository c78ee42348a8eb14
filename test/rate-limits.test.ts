import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli, type ServeProcess, startServeProcess } from "./helpers/cli.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

async function keyWith(gateway: TestGateway, limits: Record<string, number>): Promise<string> {
  const response = await gateway.admin("/admin/v1/tenants/acme/keys", {
    method: "POST",
    body: JSON.stringify({ limits }),
  });
  assert.equal(response.status, 201);
  return ((await response.json()) as { key: string }).key;
}

describe("rate limits in one process", () => {
  let upstream: MockOpenAIUpstream;
  let gateway: TestGateway;
  const chat = (key: string, extra: Record<string, unknown> = {}) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hello" }], ...extra }),
    });

  before(async () => {
    upstream = await startMockOpenAIUpstream();
    gateway = await startTestGateway({
      providers: { up: { type: "openai", baseUrl: upstream.url } },
      endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it("admits exactly the requests per minute, then 429 with Retry-After and x-ratelimit headers", async () => {
    const key = await keyWith(gateway, { requestsPerMinute: 3 });
    const statuses = [];
    let last: Response | undefined;
    for (let index = 0; index < 5; index++) {
      last = await chat(key);
      statuses.push(last.status);
      if (index === 0) {
        assert.equal(last.headers.get("x-ratelimit-limit-requests"), "3");
        assert.equal(last.headers.get("x-ratelimit-remaining-requests"), "2");
      }
      await last.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.ok(Number(last?.headers.get("retry-after")) >= 1);
    assert.equal(last?.headers.get("x-ratelimit-remaining-requests"), "0");
  });

  it("makes the official client raise RateLimitError", async () => {
    const key = await keyWith(gateway, { requestsPerMinute: 1 });
    const client = new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "x" }] });
    await assert.rejects(
      client.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "x" }] }),
      (error: unknown) => error instanceof OpenAI.RateLimitError,
    );
  });

  it("reserves the token estimate and settles to the real count", async () => {
    const key = await keyWith(gateway, { tokensPerMinute: 100 });
    const first = await chat(key, { max_tokens: 60 });
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    // The mock used 1 + 5 tokens: the 60-token reservation was settled down, so 94 remain.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await chat(key, { max_tokens: 80 });
    assert.equal(second.status, 200, "the settled reservation made room");
    assert.equal(second.headers.get("x-ratelimit-limit-tokens"), "100");
    await second.arrayBuffer();
    const tooBig = await chat(key, { max_tokens: 95 });
    assert.equal(tooBig.status, 429);
  });

  it("caps concurrency and frees the slot when a request ends", async () => {
    const key = await keyWith(gateway, { concurrency: 1 });
    upstream.enqueue(mockBehaviour.slowFirstByte(400));
    const slow = chat(key);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await chat(key);
    assert.equal(refused.status, 429);
    assert.equal((await slow).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await chat(key)).status, 200, "the slot came back");
  });

  it("applies the tenant's limits across its keys", async () => {
    const limited = await gateway.admin("/admin/v1/tenants", {
      method: "POST",
      body: JSON.stringify({ name: "small", limits: { requestsPerMinute: 2 } }),
    });
    assert.equal(limited.status, 201);
    const keys = [];
    for (let index = 0; index < 2; index++)
      keys.push(
        (
          (await (await gateway.admin("/admin/v1/tenants/small/keys", { method: "POST", body: "{}" })).json()) as {
            key: string;
          }
        ).key,
      );
    const statuses = [];
    for (const key of [keys[0], keys[1], keys[0], keys[1]]) statuses.push((await chat(key as string)).status);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  });
});

/**
 * Two `modelport serve` processes on one Redis and one PostgreSQL: the limit holds for their
 * combined traffic, exactly.
 */
const probe = await probePostgres();
if (probe.state !== "ready") reportPostgresUnavailable("rate limits across two processes", probe);
else
  describe("rate limits across two processes (Redis + PostgreSQL)", () => {
    let dir: string;
    let database: PostgresTestDatabase;
    let upstream: MockOpenAIUpstream;
    const servers: ServeProcess[] = [];
    let key: string;
    const limit = 20;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "modelport-two-"));
      database = await createTestDatabase();
      upstream = await startMockOpenAIUpstream();
      await writeFile(
        join(dir, "modelport.json"),
        JSON.stringify({
          logging: { level: "warn" },
          providers: { up: { type: "openai", baseUrl: upstream.url } },
          endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
        }),
      );
      const env = {
        MODELPORT_DATABASE_URL: database.url,
        MODELPORT_REDIS_URL: process.env.MODELPORT_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
        MODELPORT_MASTER_KEY: randomBytes(32).toString("hex"),
        MODELPORT_ADMIN_TOKEN: "two-process-admin-token",
      };
      const flags = ["--config", join(dir, "modelport.json")];
      assert.equal(
        (await runCli(["tenants", "create", "shared", ...flags, "--data-dir", join(dir, "a")], env)).code,
        0,
      );
      const created = await runCli(
        [
          "keys",
          "create",
          "--tenant",
          "shared",
          "--rpm",
          String(limit),
          "--json",
          ...flags,
          "--data-dir",
          join(dir, "a"),
        ],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      key = (JSON.parse(created.stdout) as { key: string }).key;
      for (const name of ["a", "b"])
        servers.push(await startServeProcess([...flags, "--port", "0", "--data-dir", join(dir, name)], env));
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.stop()));
      await upstream?.close();
      await database?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("admits exactly the limit over both processes combined", async () => {
      const attempts = 3 * limit;
      const results = await Promise.all(
        Array.from({ length: attempts }, (_, index) =>
          fetch(`${servers[index % 2]?.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
          }).then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          }),
        ),
      );
      const admitted = results.filter((status) => status === 200).length;
      const refused = results.filter((status) => status === 429).length;
      assert.equal(admitted, limit, `admitted ${admitted} of ${attempts}`);
      assert.equal(refused, attempts - limit);
      assert.equal(upstream.requests.length, limit, "only admitted requests reached the upstream");
    });
  });
