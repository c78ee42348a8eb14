import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { type CliResult, runCli } from "./helpers/cli.js";
import { writeSpamArtifact } from "./registry-artifacts.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs `modelport models ...` / `modelport deploy ...` as a real process. Until the lead adds
 * registerModels to src/cli/main.ts, the same commander wiring as main() runs from a small entry
 * script (same exit-code rules); afterwards the real bin/modelport.js is used.
 */
const registered = readFileSync(join(root, "src/cli/main.ts"), "utf8").includes("registerModels");
const entry = `
import { Command, CommanderError } from "commander";
import { registerModels } from "./src/cli/commands/models.ts";
import { reportError } from "./src/cli/output.ts";
const program = new Command("modelport").exitOverride();
registerModels(program);
for (const command of program.commands) { command.exitOverride(); for (const sub of command.commands) sub.exitOverride(); }
let code = 0;
try { await program.parseAsync(process.argv.slice(1), { from: "user" }); }
catch (error) { code = error instanceof CommanderError ? (error.exitCode === 0 ? 0 : 2) : reportError(error); }
process.exit(code);
`;

function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  if (registered) return runCli(args, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", entry, "--", ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`modelport models / deploy (${registered ? "bin/modelport.js" : "entry harness: registerModels not in main.ts yet"})`, () => {
  let dataDir: string;
  let env: Record<string, string>;
  let artifact: string;
  const storage = () => ["--data-dir", dataDir];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-registry-cli-"));
    env = { MODELPORT_DATABASE_URL: "", MODELPORT_MASTER_KEY: "" };
    artifact = join(dataDir, "artifact");
    await writeSpamArtifact(artifact);
  });

  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test("register, list --json (CONTRACT shape), promote with the gate, show", async () => {
    const ds = `spam@${"d".repeat(64)}`;
    const first = await cli(
      [
        "models",
        "register",
        "--name",
        "spam-filter",
        "--artifact",
        artifact,
        "--run",
        "run_9",
        "--dataset",
        ds,
        "--split-seed",
        "42",
        "--json",
        ...storage(),
      ],
      env,
    );
    assert.equal(first.code, 0, first.stderr);
    const registered = JSON.parse(first.stdout);
    assert.equal(registered.version, 1);
    assert.match(registered.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(registered.lineage, {
      runId: "run_9",
      dataset: { name: "spam", version: "d".repeat(64) },
      splitSeed: 42,
    });

    const metricsFile = join(dataDir, "worse-metrics.json");
    await writeFile(metricsFile, JSON.stringify({ accuracy: 0.9, f1: 0.85 }));
    const second = await cli(
      [
        "models",
        "register",
        "--name",
        "spam-filter",
        "--artifact",
        artifact,
        "--dataset",
        ds,
        "--split-seed",
        "42",
        "--metrics",
        metricsFile,
        ...storage(),
      ],
      env,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^registered spam-filter v2 \(sha256 [0-9a-f]{64}\)\n$/);

    const promoted = await cli(
      ["models", "promote", "spam-filter@1", "--alias", "production", "--json", ...storage()],
      env,
    );
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal(JSON.parse(promoted.stdout).toVersion, 1);

    const refused = await cli(["models", "promote", "spam-filter@2", "--alias", "production", ...storage()], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^modelport: MP_PROMOTION_REFUSED: .*accuracy 0\.9 is worse than v1 accuracy 0\.97/);

    const forced = await cli(
      [
        "models",
        "promote",
        "spam-filter@2",
        "--alias",
        "production",
        "--override-reason",
        "rollback drill",
        ...storage(),
      ],
      env,
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /spam-filter@production: v1 -> v2 \(gate overridden: rollback drill\)/);

    const list = await cli(["models", "list", "--json", ...storage()], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [
      { name: "spam-filter", version: 2, aliases: ["production"], metrics: { accuracy: 0.9, f1: 0.85 } },
      { name: "spam-filter", version: 1, aliases: [], metrics: { accuracy: 0.97, f1: 0.95 } },
    ]);

    const show = await cli(["models", "show", "spam-filter@production", ...storage()], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^# spam-filter v2\n/);
    assert.match(show.stdout, /## Metrics \(test split\)/);
    assert.match(show.stdout, /- aliases: production\n/);
    assert.match(show.stdout, /production: v1 -> v2 by admin \(override: rollback drill\)/);
    const showJson = await cli(["models", "show", "spam-filter@1", "--json", ...storage()], env);
    const shown = JSON.parse(showJson.stdout);
    assert.equal(shown.version, 1);
    assert.equal(shown.aliasHistory.length, 2);
    assert.equal(shown.aliasHistory[1].reason, "rollback drill");

    const missing = await cli(["models", "show", "nope", ...storage()], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MP_NOT_FOUND: model nope is not registered/);
    const badRef = await cli(["models", "promote", "spam-filter@production", "--alias", "staging", ...storage()], env);
    assert.equal(badRef.code, 2, "promote needs a version number");
  });

  test("deploy edits the YAML endpoint and keeps comments and other config", async (t) => {
    const config = join(dataDir, "modelport.yaml");
    const original = [
      "# my gateway",
      "providers:",
      "  mock:",
      "    type: openai # upstream",
      "    baseUrl: http://127.0.0.1:9000/v1",
      "endpoints:",
      "  chat-small:",
      "    kind: chat",
      "    targets:",
      "      - provider: mock",
      "        model: gpt-4o-mini",
      "",
    ].join("\n");
    await writeFile(config, original);
    const deployed = await cli(
      [
        "deploy",
        "spam-filter",
        "--alias",
        "production",
        "--endpoint",
        "spam-filter",
        "--config",
        config,
        "--data-dir",
        dataDir,
      ],
      env,
    );
    // The server's config schema may not accept registry targets yet; the edit itself is what is checked here.
    const text = await readFile(config, "utf8");
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.ok(text.startsWith(original.trimEnd()), "everything before stays byte for byte");
    assert.match(text, /type: openai # upstream/);
    const parsed = parse(text);
    assert.deepEqual(parsed.endpoints["spam-filter"], {
      kind: "predict",
      targets: [{ model: "registry:spam-filter@production" }],
    });
    assert.equal(parsed.endpoints["chat-small"].targets[0].model, "gpt-4o-mini");

    const canary = await cli(
      [
        "deploy",
        "spam-filter",
        "--alias",
        "canary",
        "--endpoint",
        "spam-filter",
        "--weight",
        "10",
        "--config",
        config,
        "--data-dir",
        dataDir,
      ],
      env,
    );
    if (canary.code === 1 && /targets\.0\.provider/.test(canary.stderr)) {
      // The config now holds a registry target, which src/config must accept (lead integration).
      t.skip("the config schema does not accept `model: registry:...` targets without a provider yet");
      return;
    }
    assert.equal(canary.code, 0, canary.stderr);
    assert.match(canary.stderr, /points at no version yet/);
    assert.deepEqual(parse(await readFile(config, "utf8")).endpoints["spam-filter"].targets, [
      { model: "registry:spam-filter@production" },
      { model: "registry:spam-filter@canary", weight: 10 },
    ]);
    const unknown = await cli(
      ["deploy", "ghost", "--alias", "production", "--endpoint", "g", "--config", config, "--data-dir", dataDir],
      env,
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /MP_NOT_FOUND/);
  });
});
