import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { runCli, type ServeProcess, startServeProcess } from "./helpers/cli.js";

/**
 * `modelport quickstart` from nothing: imports the shipped data, trains, registers and deploys the
 * spam filter and the digit classifier; `modelport serve` then answers OIP v2 requests with raw
 * inputs in the shapes of CONTRACT.md. (`--fast` trains the CNN for fewer epochs; the accuracy
 * targets are held by test/training-accuracy.test.ts.)
 */
describe("modelport quickstart", () => {
  let dir: string;
  let serve: ServeProcess | undefined;
  let output: { apiKey: string; models: { endpoint: string; metrics: { accuracy: number } }[] };
  const env = { MODELPORT_ADMIN_TOKEN: "quickstart-admin-token" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-quickstart-"));
    const result = await runCli(
      ["quickstart", "--fast", "--json", "--config", join(dir, "modelport.yaml"), "--data-dir", join(dir, "data")],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    output = JSON.parse(result.stdout);
  });
  after(async () => {
    await serve?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("trains both models to useful accuracy and writes their endpoints into the config", async () => {
    const byName = new Map(output.models.map((model) => [model.endpoint, model]));
    assert.ok((byName.get("spam-filter")?.metrics.accuracy ?? 0) > 0.95);
    assert.ok((byName.get("digits")?.metrics.accuracy ?? 0) > 0.9);
    const config = parse(await readFile(join(dir, "modelport.yaml"), "utf8")) as {
      endpoints: Record<string, { kind: string; targets: { model: string }[] }>;
    };
    assert.equal(config.endpoints["spam-filter"]?.targets[0]?.model, "registry:spam-filter@production");
    assert.equal(config.endpoints.digits?.kind, "predict");
    const list = await runCli(["models", "list", "--json", "--data-dir", join(dir, "data")], env);
    const models = JSON.parse(list.stdout) as {
      name: string;
      version: number;
      aliases: string[];
      metrics: { accuracy: number };
    }[];
    assert.deepEqual(models.map((model) => model.name).sort(), ["digits", "spam-filter"]);
    assert.ok(models.every((model) => model.aliases.includes("production") && model.metrics.accuracy > 0.9));
  });

  it("serves the deployed models over OIP v2 with raw inputs", async () => {
    serve = await startServeProcess(
      ["--config", join(dir, "modelport.yaml"), "--data-dir", join(dir, "data"), "--port", "0"],
      env,
    );
    const infer = (model: string, body: unknown) =>
      fetch(`${serve?.url}/v2/models/${model}/infer`, {
        method: "POST",
        headers: { authorization: `Bearer ${output.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const spam = await infer("spam-filter", {
      inputs: [
        {
          name: "text",
          datatype: "BYTES",
          shape: [2],
          data: ["WIN a FREE prize now!!! click here $$$", "Meeting moved to 3pm, see agenda attached"],
        },
      ],
    });
    const spamBody = (await spam.json()) as {
      outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[];
    };
    assert.equal(spam.status, 200, JSON.stringify(spamBody));
    const label = spamBody.outputs.find((output) => output.name === "label");
    const probabilities = spamBody.outputs.find((output) => output.name === "probabilities");
    assert.equal(label?.datatype, "BYTES");
    assert.ok(label?.data.every((value) => value === "spam" || value === "ham"));
    assert.deepEqual(probabilities?.shape, [2, 2]);
    const digits = await infer("digits", {
      inputs: [{ name: "image", datatype: "FP32", shape: [1, 784], data: new Array(784).fill(0) }],
    });
    const digitsBody = (await digits.json()) as { outputs: { name: string; datatype: string; shape: number[] }[] };
    assert.equal(digits.status, 200, JSON.stringify(digitsBody));
    assert.equal(digitsBody.outputs.find((output) => output.name === "label")?.datatype, "INT64");
    assert.deepEqual(digitsBody.outputs.find((output) => output.name === "probabilities")?.shape, [1, 10]);
  });
});
