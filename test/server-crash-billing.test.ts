import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type MockOpenAIUpstream, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli, startServeProcess } from "./helpers/cli.js";
import { readSseEvents } from "./helpers/gateway.js";

/**
 * `kill -9` of `modelport serve` under load, then a restart: every response the client received
 * (plain, and streams that reached `[DONE]`) is in the ledger exactly once. The client log of
 * received responses is reconciled against `modelport usage --records`.
 */
describe("billing survives kill -9 of the server", () => {
  let dir: string;
  let upstream: MockOpenAIUpstream;
  const env: Record<string, string> = {
    MODELPORT_ADMIN_TOKEN: "crash-admin-token-123",
    MODELPORT_MASTER_KEY: randomBytes(32).toString("hex"),
  };
  let flags: string[];
  let key: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-crash-serve-"));
    upstream = await startMockOpenAIUpstream();
    await writeFile(
      join(dir, "modelport.json"),
      JSON.stringify({
        logging: { level: "warn" },
        providers: { up: { type: "openai", baseUrl: upstream.url } },
        endpoints: {
          chat: { kind: "chat", targets: [{ provider: "up", model: "m" }], pricing: { perRequest: 0.001 } },
        },
      }),
    );
    flags = ["--config", join(dir, "modelport.json"), "--data-dir", join(dir, "data")];
    assert.equal((await runCli(["tenants", "create", "acme", ...flags], env)).code, 0);
    key = (
      JSON.parse((await runCli(["keys", "create", "--tenant", "acme", "--json", ...flags], env)).stdout) as {
        key: string;
      }
    ).key;
  });
  after(async () => {
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds 0 missing and 0 duplicated records after a crash and restart", async () => {
    const received = new Set<string>();
    for (let round = 0; round < 2; round++) {
      const serve = await startServeProcess([...flags, "--port", "0"], env);
      let stop = false;
      const worker = async (index: number) => {
        while (!stop) {
          try {
            const stream = index % 2 === 1;
            const response = await fetch(`${serve.url}/v1/chat/completions`, {
              method: "POST",
              headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
              body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }], stream }),
            });
            const id = response.headers.get("x-request-id");
            if (stream) {
              const events = await readSseEvents(response);
              if (response.status === 200 && events.at(-1) === "[DONE]" && id) received.add(id);
            } else {
              await response.json();
              if (response.status === 200 && id) received.add(id);
            }
          } catch {
            // The server died mid-request: that response was never received.
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, index) => worker(index));
      const target = received.size + 150;
      for (let waited = 0; waited < 30_000 && received.size < target; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      serve.child.kill("SIGKILL");
      await serve.exited;
      stop = true;
      await Promise.all(workers);
    }
    // Restart once more so the journal is recovered, then stop cleanly (flushes the ledger).
    const last = await startServeProcess([...flags, "--port", "0"], env);
    const code = await last.stop("SIGTERM");
    assert.equal(code, 0, `clean stop after recovery: ${JSON.stringify(last.output())}`);

    const usage = await runCli(["usage", "--tenant", "acme", "--records", "--json", ...flags], env);
    assert.equal(usage.code, 0, usage.stderr);
    const records = (JSON.parse(usage.stdout) as { records: { requestId: string }[] }).records;
    const ids = records.map((record) => record.requestId);
    const unique = new Set(ids);
    const missing = [...received].filter((id) => !unique.has(id));
    assert.ok(received.size >= 300, `${received.size} responses received`);
    assert.equal(missing.length, 0, `missing from the ledger: ${missing.slice(0, 5).join(", ")}`);
    assert.equal(ids.length, unique.size, "no duplicated records");
  });
});
