import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "./helpers/cli.js";

/** The command line's contract: config validation at start-up, exit codes, one-line errors. */
describe("modelport CLI and config validation", () => {
  let dir: string;
  const env = { MODELPORT_ADMIN_TOKEN: "cli-test-admin-token" };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-cli-"));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function serveWith(config: string, name = "modelport.yaml") {
    const path = join(dir, name);
    await writeFile(path, config);
    return runCli(["serve", "--config", path, "--data-dir", join(dir, "data"), "--port", "0"], env);
  }

  it("fails start-up on an unknown key, naming the key and the file", async () => {
    const result = await serveWith(
      "endpoints:\n  chat:\n    kind: chat\n    targets: [{ provider: p }]\n    colour: blue\n",
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /MP_CONFIG_INVALID/);
    assert.match(result.stderr, /unknown key 'colour' in endpoints\.chat/);
    assert.match(result.stderr, /modelport\.yaml/);
    assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
  });

  it("fails start-up on a wrong type, naming the key and what was expected", async () => {
    const result = await serveWith('{"server": {"bodyLimitBytes": "big"}}', "bad.json");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /server\.bodyLimitBytes: .*expected number/i);
    assert.match(result.stderr, /bad\.json/);
  });

  it("fails start-up when a target names a missing provider or an unset variable", async () => {
    const missing = await serveWith("endpoints:\n  chat:\n    kind: chat\n    targets: [{ provider: ghost }]\n");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /endpoints\.chat\.targets\.0\.provider: no provider named 'ghost'/);
    const unset = await serveWith(
      "providers:\n  up:\n    type: openai\n    baseUrl: http://127.0.0.1:1/v1\n    apiKey: ${MODELPORT_TEST_SURELY_UNSET}\n",
    );
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /providers\.up\.apiKey: environment variable MODELPORT_TEST_SURELY_UNSET is not set/);
  });

  it("fails start-up when a provider cannot serve the endpoint's kind", async () => {
    const result = await serveWith(
      "providers:\n  m:\n    type: onnx\n    path: ./x.onnx\nendpoints:\n  chat:\n    kind: chat\n    targets: [{ provider: m }]\n",
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /a 'onnx' provider cannot serve a 'chat' endpoint/);
  });

  it("prints the config's JSON Schema", async () => {
    const result = await runCli(["config", "schema"]);
    assert.equal(result.code, 0);
    const schema = JSON.parse(result.stdout) as {
      type: string;
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    assert.equal(schema.type, "object");
    assert.ok("providers" in schema.properties && "endpoints" in schema.properties && "server" in schema.properties);
    assert.equal(schema.additionalProperties, false, "unknown keys are rejected");
  });

  it("exits 2 on usage errors and 0 for --help", async () => {
    assert.equal((await runCli(["no-such-command"])).code, 2);
    assert.equal((await runCli(["keys", "create"])).code, 2, "--tenant is required");
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /serve/);
  });

  it("reports failures as one line with the error code and exit 1", async () => {
    const flags = ["--data-dir", join(dir, "data")];
    const revoke = await runCli(["keys", "revoke", "key_missing", ...flags], env);
    assert.equal(revoke.code, 1);
    assert.match(revoke.stderr, /^modelport: MP_NOT_FOUND: no API key with id 'key_missing'\n$/);
    const tenant = await runCli(["tenants", "create", "dup", ...flags], env);
    assert.equal(tenant.code, 0, tenant.stderr);
    const again = await runCli(["tenants", "create", "dup", ...flags], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /MP_CONFLICT/);
    const list = await runCli(["tenants", "list", "--json", ...flags], env);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { name: string }[]).map((t) => t.name),
      ["dup"],
    );
  });

  it("says clearly when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(["serve", "--data-dir", join(dir, "data"), "--port", String(port)], env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it("refuses a database set up with another master key", async () => {
    const flags = ["--data-dir", join(dir, "data")];
    const result = await runCli(["tenants", "list", ...flags], { ...env, MODELPORT_MASTER_KEY: "ab".repeat(32) });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /different master key/);
  });
});
