import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type PiiCommandIo, runPiiDecrypt, runPiiDetect, runPiiRedact } from "../src/cli/commands/pii.js";
import { ModelportError } from "../src/core/errors.js";
import type { AuditEvent } from "../src/privacy/audit/audit-types.js";
import { runCli } from "./helpers/cli.js";

const key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const input = "Hi, I'm Sarah Johnson 😀, card 4111 1111 1111 1111, 身份证11010519491231002X.\n";

/** The command actions with stdin/stdout as strings (the same functions the CLI calls). */
async function action(
  run: (io: PiiCommandIo) => Promise<void>,
  stdin: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  let out = "";
  await run({ readStdin: async () => stdin, write: (text) => (out += text), env });
  return out;
}

describe("modelport pii (command actions)", () => {
  it("detect --json prints {type,start,end,score,text} with UTF-16 offsets", async () => {
    const findings = JSON.parse(await action((io) => runPiiDetect({ json: true }, io), input)) as {
      type: string;
      start: number;
      end: number;
      score: number;
      text: string;
    }[];
    assert.deepEqual(
      findings.map((f) => f.type),
      ["PERSON", "CREDIT_CARD", "CN_RESIDENT_ID"],
    );
    for (const finding of findings) {
      assert.deepEqual(Object.keys(finding), ["type", "start", "end", "score", "text"]);
      assert.equal(input.slice(finding.start, finding.end), finding.text);
    }
  });

  it("detect without --json prints a table; bad flags are usage errors", async () => {
    const table = await action((io) => runPiiDetect({}, io), input);
    assert.match(table, /^type\s+start\s+end\s+score\s+text\n/);
    assert.match(table, /CREDIT_CARD\s+\d+\s+\d+\s+1\.00\s+4111 1111 1111 1111/);
    assert.equal(await action((io) => runPiiDetect({}, io), "nothing here"), "no PII found\n");
    await assert.rejects(
      action((io) => runPiiDetect({ threshold: "2" }, io), input),
      /--threshold/,
    );
    await assert.rejects(
      action((io) => runPiiDetect({ types: "EMAIL,NOPE" }, io), input),
      /unknown PII type/,
    );
  });

  it("redact with each operator; hash and encrypt need MODELPORT_PII_KEY", async () => {
    assert.equal(
      await action((io) => runPiiRedact({ operator: "replace" }, io), input),
      "Hi, I'm <PERSON> 😀, card <CREDIT_CARD>, 身份证<CN_RESIDENT_ID>.\n",
    );
    assert.equal(
      await action((io) => runPiiRedact({ operator: "mask" }, io), input),
      "Hi, I'm ************* 😀, card **** **** **** 1111, 身份证******************.\n",
    );
    assert.match(
      await action((io) => runPiiRedact({ operator: "pseudonymize" }, io), input),
      /<PERSON_1>.*<CREDIT_CARD_1>/,
    );
    assert.match(
      await action((io) => runPiiRedact({ operator: "hash" }, io), input, { MODELPORT_PII_KEY: key }),
      /<PERSON:[0-9a-f]{16}>/,
    );
    const encrypted = await action((io) => runPiiRedact({ operator: "encrypt" }, io), input, {
      MODELPORT_PII_KEY: key,
    });
    assert.ok(!encrypted.includes("4111"));
    const recorded: AuditEvent[] = [];
    const trail = { record: async (event: AuditEvent) => recorded.push(event) };
    assert.equal(
      await action((io) => runPiiDecrypt(io, trail), encrypted, { MODELPORT_PII_KEY: key }),
      input,
      "decrypt round-trips",
    );
    assert.equal(recorded.length, 1, "a decryption is recorded");
    const entry = recorded[0] as AuditEvent;
    assert.equal(entry.action, "data-decrypted");
    assert.deepEqual(entry.details?.types, { PERSON: 1, CREDIT_CARD: 1, CN_RESIDENT_ID: 1 });
    assert.equal(entry.details?.tokens, 3);
    assert.deepEqual(entry.sensitive, { input: encrypted, output: input }, "handed to the trail to HMAC");
    assert.ok(!JSON.stringify(entry.details).includes("4111"), "no plaintext in the stored details");
    // No trail, no plaintext: a failing audit write stops the output.
    let printed = "";
    await assert.rejects(
      runPiiDecrypt(
        { readStdin: async () => encrypted, write: (text) => (printed += text), env: { MODELPORT_PII_KEY: key } },
        {
          record: async () => {
            throw new Error("audit trail unavailable");
          },
        },
      ),
      /audit trail unavailable/,
    );
    assert.equal(printed, "");
    // Text without tokens decrypts nothing and records nothing.
    assert.equal(
      await action((io) => runPiiDecrypt(io, trail), "plain text", { MODELPORT_PII_KEY: key }),
      "plain text",
    );
    assert.equal(recorded.length, 1);
    await assert.rejects(
      action((io) => runPiiRedact({ operator: "hash" }, io), input),
      (error: unknown) => error instanceof ModelportError && /MODELPORT_PII_KEY/.test(error.message),
    );
    await assert.rejects(
      action((io) => runPiiRedact({ operator: "encrypt" }, io), input, { MODELPORT_PII_KEY: "short" }),
      /64 hexadecimal/,
    );
    await assert.rejects(
      action((io) => runPiiRedact({ operator: "shred" }, io), input),
      /--operator must be one of/,
    );
  });
});

describe("modelport pii (real CLI)", () => {
  it("detect --json and redact through bin/modelport.js", async () => {
    const detect = await runCli(["pii", "detect", "--json"], {}, input);
    assert.equal(detect.code, 0, detect.stderr);
    const findings = JSON.parse(detect.stdout) as { type: string; text: string }[];
    assert.deepEqual(
      findings.map((f) => [f.type, f.text]),
      [
        ["PERSON", "Sarah Johnson"],
        ["CREDIT_CARD", "4111 1111 1111 1111"],
        ["CN_RESIDENT_ID", "11010519491231002X"],
      ],
    );
    const redact = await runCli(["pii", "redact", "--operator", "mask"], {}, input);
    assert.equal(redact.code, 0, redact.stderr);
    assert.equal(redact.stdout, "Hi, I'm ************* 😀, card **** **** **** 1111, 身份证******************.\n");
  });

  it("fails with one clear line and exit 1 when hash has no key, exit 2 on a bad operator", async () => {
    const noKey = await runCli(["pii", "redact", "--operator", "hash"], { MODELPORT_PII_KEY: "" }, input);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /MP_INVALID_REQUEST: .*MODELPORT_PII_KEY/);
    assert.equal(noKey.stdout, "", "nothing half-redacted is printed");
    const bad = await runCli(["pii", "redact", "--operator", "shred"], {}, input);
    assert.equal(bad.code, 2);
  });

  it("--help stays fast (the engine is loaded lazily)", async () => {
    const help = await runCli(["pii", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /detect/);
    assert.match(help.stdout, /redact/);
  });
});
