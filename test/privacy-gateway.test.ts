import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { type MockOpenAIUpstream, mockBehaviour, startMockOpenAIUpstream } from "./fixtures/mock-openai-upstream.js";
import { runCli, type ServeProcess, startServeProcess } from "./helpers/cli.js";
import { readSseEvents } from "./helpers/gateway.js";
import {
  createTestDatabase,
  type PostgresTestDatabase,
  probePostgres,
  reportPostgresUnavailable,
} from "./helpers/postgres.js";

const person = "Margaret Thornton";
const email = "margaret.thornton@example.org";
const ssn = "536-22-8145";
const card = "4539 1488 0343 6467";

const policy = {
  defaultAction: "allow",
  entities: {
    PERSON: "pseudonymize",
    EMAIL_ADDRESS: "pseudonymize",
    US_SSN: "mask_logs",
    CREDIT_CARD: "block",
  },
};

/**
 * PII policies through a real `modelport serve`: pseudonyms towards the model and back (streams
 * too), blocked types refused, and afterwards no key and no PII value in plaintext anywhere:
 * the database files or tables and the logs.
 */
function privacySuite(
  name: string,
  database: () => Promise<{ url?: string; scan: () => Promise<string>; drop?: () => Promise<void> }>,
) {
  describe(`PII policies and nothing in plaintext (${name})`, () => {
    let dir: string;
    let upstream: MockOpenAIUpstream;
    let serve: ServeProcess;
    let apiKey: string;
    let scanDatabase: () => Promise<string>;
    let drop: (() => Promise<void>) | undefined;

    const chat = (content: string, extra: Record<string, unknown> = {}) =>
      fetch(`${serve.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat", messages: [{ role: "user", content }], ...extra }),
      });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "modelport-privacy-"));
      sqliteDir = dir;
      const db = await database();
      scanDatabase = db.scan;
      drop = db.drop;
      upstream = await startMockOpenAIUpstream();
      await writeFile(
        join(dir, "modelport.json"),
        JSON.stringify({
          logging: { level: "debug" },
          requestLog: { payloads: true },
          pii: { default: policy },
          providers: { up: { type: "openai", baseUrl: upstream.url } },
          endpoints: { chat: { kind: "chat", targets: [{ provider: "up", model: "m" }] } },
        }),
      );
      const env: Record<string, string> = {
        MODELPORT_ADMIN_TOKEN: "privacy-admin-token-xyz",
        MODELPORT_MASTER_KEY: randomBytes(32).toString("hex"),
        ...(db.url ? { MODELPORT_DATABASE_URL: db.url } : {}),
      };
      const flags = ["--config", join(dir, "modelport.json"), "--data-dir", join(dir, "data")];
      assert.equal((await runCli(["tenants", "create", "acme", ...flags], env)).code, 0);
      const created = await runCli(["keys", "create", "--tenant", "acme", "--json", ...flags], env);
      apiKey = (JSON.parse(created.stdout) as { key: string }).key;
      serve = await startServeProcess([...flags, "--port", "0"], env);
    });
    after(async () => {
      if (serve && serve.child.exitCode === null) await serve.stop();
      await upstream?.close();
      await drop?.();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("sends pseudonyms to the model and restores them in the answer", async () => {
      upstream.enqueue(mockBehaviour.ok({ content: "Dear <PERSON_1>, we will write to <EMAIL_ADDRESS_1>." }));
      const response = await chat(`My name is ${person}, email ${email}, SSN ${ssn}. Please reply.`);
      assert.equal(response.status, 200);
      const sent = JSON.stringify(upstream.requests.at(-1)?.body);
      assert.ok(!sent.includes(person) && !sent.includes(email), `the model saw no PII: ${sent}`);
      assert.match(sent, /<PERSON_1>/);
      assert.ok(sent.includes(ssn), "mask_logs leaves the value for the model");
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      assert.equal(body.choices[0]?.message.content, `Dear ${person}, we will write to ${email}.`);
    });

    it("restores a pseudonym split across stream chunks", async () => {
      upstream.enqueue(mockBehaviour.ok({ content: ["Hello <PER", "SON_", "1>", ", bye"] }));
      const response = await chat(`I am ${person}.`, { stream: true });
      const events = (await readSseEvents(response)).filter((event) => event !== "[DONE]") as {
        choices: { delta: { content?: string } }[];
      }[];
      const text = events.map((event) => event.choices[0]?.delta.content ?? "").join("");
      assert.equal(text, `Hello ${person}, bye`);
    });

    it("blocks a request carrying a blocked type with 400 naming it", async () => {
      const before = upstream.requests.length;
      const response = await chat(`Charge my card ${card} please`);
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { message: string; modelport_code: string } };
      assert.equal(body.error.modelport_code, "MP_PII_BLOCKED");
      assert.match(body.error.message, /CREDIT_CARD/);
      assert.equal(upstream.requests.length, before, "nothing reached the model");
    });

    it("leaves no key and no PII in plaintext in storage or logs", async () => {
      await serve.stop("SIGTERM"); // drains and flushes the request log and the logs
      const output = serve.output();
      const rows = await scanDatabase();
      assert.match(rows, /"?request_payload"?:"mpe1\./, "payloads are stored, sealed");
      const haystacks = [output.stdout, output.stderr, rows];
      // Every file under the data dir, sub-directories included (other features keep files there).
      for (const entry of await readdir(join(dir, "data"), { recursive: true, withFileTypes: true }))
        if (entry.isFile()) haystacks.push((await readFile(join(entry.parentPath, entry.name))).toString("latin1"));
      const needles = [apiKey, apiKey.slice(11), person, email, ssn, card, card.replaceAll(" ", "")];
      for (const needle of needles)
        for (const haystack of haystacks)
          assert.ok(!haystack.includes(needle), `found '${needle.slice(0, 12)}…' in plaintext`);
      assert.match(output.stdout, /"msg":"request"/, "the access log was written (and scanned)");
    });
  });
}

let sqliteDir = "";
privacySuite("SQLite", async () => ({
  // The files themselves are scanned below; this reads the rows so the test can see payloads exist.
  scan: async () => {
    const database = new Database(join(sqliteDir, "data", "modelport.db"), { readonly: true });
    try {
      return JSON.stringify(database.prepare("select * from request_log").all());
    } finally {
      database.close();
    }
  },
}));

const probe = await probePostgres();
if (probe.state !== "ready") reportPostgresUnavailable("PII policies and nothing in plaintext (PostgreSQL)", probe);
else {
  let database: PostgresTestDatabase;
  privacySuite("PostgreSQL", async () => {
    database = await createTestDatabase();
    return {
      url: database.url,
      drop: () => database.drop(),
      // Every row of every table, as text.
      scan: async () => {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          const tables = await client.query<{ tablename: string }>(
            "select tablename from pg_tables where schemaname = 'public'",
          );
          let all = "";
          for (const { tablename } of tables.rows) {
            const rows = await client.query(`select * from "${tablename}"`);
            all += JSON.stringify(rows.rows);
          }
          return all;
        } finally {
          await client.end();
        }
      },
    };
  });
}
