import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRequestLogRepository } from "../src/monitoring/request-log/repository.js";
import { openDatabase } from "../src/storage/database.js";
import { type MockOpenAIUpstream, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { readSseEvents, startTestGateway, type TestGateway } from "./helpers/gateway.js";

interface LogPage {
  data: {
    requestId: string;
    status: number;
    endpoint: string | null;
    errorCode: string | null;
    inputTokens: number | null;
    outputTokens: number | null;
    stream: boolean;
    endUserHash: string | null;
    requestPayload: string | null;
  }[];
  nextCursor: string | null;
}

/** The request log through the real server: one record per request, search, pagination, erasure. */
describe("request log", () => {
  let upstream: MockOpenAIUpstream;
  let gateway: TestGateway;
  const ids: string[] = [];

  async function search(query = ""): Promise<LogPage> {
    const response = await gateway.admin(`/admin/v1/tenants/acme/requests${query}`);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as LogPage;
  }

  async function waitForRecords(count: number): Promise<LogPage> {
    for (let waited = 0; waited < 5_000; waited += 100) {
      const page = await search("?limit=1000");
      if (page.data.length >= count) return page;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return search("?limit=1000");
  }

  before(async () => {
    upstream = await startMockOpenAIUpstream();
    gateway = await startTestGateway({
      providers: { up: { type: "openai", baseUrl: upstream.url } },
      endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
    });
    const chat = (body: Record<string, unknown>) =>
      gateway.call("/v1/chat/completions", {
        model: "chat",
        messages: [{ role: "user", content: "hi there" }],
        ...body,
      });
    for (const body of [{ user: "alice" }, { user: "bob" }, { stream: true, user: "alice" }, { model: "missing" }]) {
      const response = await chat(body);
      ids.push(response.headers.get("x-request-id") as string);
      if (body.stream) await readSseEvents(response);
      else await response.arrayBuffer();
    }
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it("records every inference request once, with status, tokens and error code, and no payload", async () => {
    const page = await waitForRecords(4);
    assert.equal(page.data.length, 4);
    assert.deepEqual(page.data.map((entry) => entry.requestId).sort(), [...ids].sort());
    const byId = new Map(page.data.map((entry) => [entry.requestId, entry]));
    const plain = byId.get(ids[0] as string);
    assert.equal(plain?.status, 200);
    assert.equal(plain?.endpoint, "chat");
    assert.equal(plain?.inputTokens, 2);
    assert.equal(plain?.outputTokens, 5);
    assert.equal(plain?.requestPayload, null);
    const streamed = byId.get(ids[2] as string);
    assert.equal(streamed?.stream, true);
    assert.equal(streamed?.outputTokens, 5, "stream usage recorded even without include_usage");
    const failed = byId.get(ids[3] as string);
    assert.equal(failed?.status, 404);
    assert.equal(failed?.errorCode, "MP_UNKNOWN_MODEL");
    assert.ok(plain?.endUserHash && !JSON.stringify(page).includes("alice"), "end users only as hashes");
  });

  it("filters by status and pages with a cursor", async () => {
    assert.deepEqual(
      (await search("?status=404")).data.map((entry) => entry.requestId),
      [ids[3]],
    );
    const first = await search("?limit=3");
    assert.equal(first.data.length, 3);
    assert.ok(first.nextCursor);
    const second = await search(`?limit=3&cursor=${first.nextCursor}`);
    assert.equal(second.data.length, 1);
    assert.equal(second.nextCursor, null);
    assert.equal(new Set([...first.data, ...second.data].map((entry) => entry.requestId)).size, 4);
    assert.equal((await gateway.admin("/admin/v1/tenants/acme/requests?cursor=garbage")).status, 400);
    assert.equal((await gateway.admin("/admin/v1/tenants/acme/requests?from=yesterday")).status, 400);
  });

  it("erases one end user's records and nobody else's", async () => {
    const erased = await gateway.admin("/admin/v1/tenants/acme/end-users/erase", {
      method: "POST",
      body: JSON.stringify({ user: "alice" }),
    });
    assert.deepEqual(await erased.json(), { erased: 2 });
    const remaining = (await search()).data.map((entry) => entry.requestId).sort();
    assert.deepEqual(remaining, [ids[1], ids[3]].sort());
  });

  it("deletes entries past retention in batches", async () => {
    const handle = await openDatabase({ dataDir: gateway.dataDir });
    try {
      // The server's SQLite write path (prepared statements), replayed: nothing is inserted twice.
      const repository = createRequestLogRepository(handle.db, { sqliteConnection: handle.sqliteConnection });
      assert.ok(handle.sqliteConnection, "SQLite exposes its connection");
      const old = (await repository.search({ limit: 1 })).data[0];
      assert.ok(old);
      const batch = Array.from({ length: 7 }, (_, index) => ({
        ...old,
        requestId: `req_old_${index}`,
        time: "2020-01-01T00:00:00.000Z",
        guardVerdicts: [{ guard: "injection", index }],
      }));
      await repository.insertMany(batch);
      await repository.insertMany(batch);
      const stored = await repository.search({ from: "2019-01-01T00:00:00.000Z", to: "2021-01-01T00:00:00.000Z" });
      assert.deepEqual(
        stored.data.map((entry) => entry.requestId).sort(),
        batch.map((entry) => entry.requestId).sort(),
      );
      assert.deepEqual(
        stored.data.find((entry) => entry.requestId === "req_old_3"),
        batch[3],
        "every column round-trips",
      );
      assert.equal(await repository.deleteOlderThan("2021-01-01T00:00:00.000Z", 3), 7);
      assert.equal(
        (await repository.search({ from: "2019-01-01T00:00:00.000Z", to: "2021-01-01T00:00:00.000Z" })).data.length,
        0,
      );
    } finally {
      await handle.close();
    }
  });
});
