import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ModelportError } from "../src/core/errors.js";
import type { OipInferRequest } from "../src/core/oip-types.js";
import type { InvokeContext, ModelRuntime } from "../src/core/runtime.js";
import { createRegistryRuntime, defaultLoadRuntime, parseRegistryTarget } from "../src/runtimes/registry/index.js";
import { createTfjsRuntime } from "../src/runtimes/tfjs/runtime.js";
import { type DatabaseHandle, openDatabase } from "../src/storage/database.js";
import { fitPreprocessor } from "../src/training/preprocessing/index.js";
import { createModelRegistry, type ModelRegistry } from "../src/training/registry/index.js";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import { writeTinyTfjsClassifier } from "./fixtures/tfjs-model.js";
import { expectedProbabilities, fitSpamPreprocessor, spamWeights, writeSpamArtifact } from "./registry-artifacts.js";

const code = (expected: string, pattern?: RegExp) => (error: unknown) =>
  error instanceof ModelportError && error.code === expected && (pattern === undefined || pattern.test(error.message));

function context(): InvokeContext {
  return {
    signal: new AbortController().signal,
    requestId: "req_test",
    timeouts: { connectMs: 5000, firstByteMs: 5000, totalMs: 5000 },
  };
}

const emails = ["win free money now", "lunch at noon tomorrow", "free lunch", "completely unknown words"];
const textRequest = (texts: string[]): OipInferRequest => ({
  inputs: [{ name: "text", datatype: "BYTES", shape: [texts.length], data: texts }],
});

function assertClose(actual: number[], expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((value, index) => {
    assert.ok(Math.abs(value - (expected[index] as number)) <= tolerance, `[${index}] ${value} vs ${expected[index]}`);
  });
}

describe("registry runtime", () => {
  let handle: DatabaseHandle;
  let dataDir: string;
  let registry: ModelRegistry;
  const dataset = { name: "spam", version: "c".repeat(64) };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "modelport-registry-runtime-"));
    handle = await openDatabase({ dataDir });
    registry = createModelRegistry({ db: handle.db, dialect: handle.dialect, dataDir });
    await writeSpamArtifact(join(dataDir, "in", "v1"));
    await writeSpamArtifact(join(dataDir, "in", "v2"), { flip: true });
    await registry.register({
      name: "spam-filter",
      artifact: join(dataDir, "in", "v1"),
      lineage: { dataset, splitSeed: 1 },
    });
    await registry.register({
      name: "spam-filter",
      artifact: join(dataDir, "in", "v2"),
      lineage: { dataset, splitSeed: 1 },
    });
    await registry.promote("spam-filter", 1, "production");
  });

  after(async () => {
    await handle?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test("raw BYTES text in, saved preprocessing applied, label and probabilities out", async () => {
    const runtime = createRegistryRuntime({ registry, name: "spam-filter", alias: "production", refreshMs: 0 });
    try {
      const metadata = await runtime.predictMetadata();
      assert.deepEqual(metadata.inputs, [{ name: "text", datatype: "BYTES", shape: [-1] }]);
      assert.deepEqual(
        metadata.outputs.map((output) => output.name),
        ["label", "probabilities"],
      );
      assert.equal(metadata.platform, "tensorflowjs_layers");

      const result = await runtime.predict({ id: "r1", ...textRequest(emails) }, context());
      const preprocessor = fitSpamPreprocessor();
      const expected = expectedProbabilities(
        preprocessor.transform(emails.map((text) => ({ text }))),
        preprocessor.width,
        spamWeights(preprocessor),
      );
      assert.equal(result.id, "r1");
      assert.equal(result.model_version, "1");
      const [label, probabilities] = result.outputs;
      assert.deepEqual(label, { name: "label", datatype: "BYTES", shape: [4], data: ["spam", "ham", "spam", "ham"] });
      assert.equal(probabilities?.datatype, "FP32");
      assert.deepEqual(probabilities?.shape, [4, 2]);
      assertClose(probabilities?.data as number[], expected.flat());
      assert.deepEqual(
        expected.map((row) => ((row[1] as number) > (row[0] as number) ? "spam" : "ham")),
        label?.data,
        "labels are the argmax of the reference probabilities",
      );

      const only = await runtime.predict({ ...textRequest(["free money"]), outputs: [{ name: "label" }] }, context());
      assert.deepEqual(only.outputs, [{ name: "label", datatype: "BYTES", shape: [1], data: ["spam"] }]);
    } finally {
      await runtime.close();
    }
  });

  test("bad raw inputs are 400s with the field", async () => {
    const runtime = createRegistryRuntime({ registry, name: "spam-filter", alias: "production", refreshMs: 0 });
    try {
      await assert.rejects(
        runtime.predict({ inputs: [{ name: "features", datatype: "FP32", shape: [1], data: [1] }] }, context()),
        code("MP_INVALID_REQUEST", /unknown input 'features'/),
      );
      await assert.rejects(
        runtime.predict({ inputs: [{ name: "text", datatype: "FP32", shape: [1], data: [1] }] }, context()),
        code("MP_INVALID_REQUEST", /must be BYTES/),
      );
      await assert.rejects(
        runtime.predict({ inputs: [{ name: "text", datatype: "BYTES", shape: [2], data: ["a"] }] }, context()),
        code("MP_INVALID_REQUEST", /needs 2/),
      );
      await assert.rejects(
        runtime.predict({ ...textRequest(["x"]), outputs: [{ name: "logits" }] }, context()),
        code("MP_INVALID_REQUEST", /unknown output 'logits'/),
      );
      await assert.rejects(runtime.predict({ inputs: [] }, context()), code("MP_INVALID_REQUEST"));
    } finally {
      await runtime.close();
    }
  });

  test("moving the alias rolls over within refreshMs, without a restart or a failed request", async () => {
    const closed: number[] = [];
    // Wraps the real engine only to observe when the old version is released.
    const loadRuntime = async (artifact: Parameters<typeof defaultLoadRuntime>[0]): Promise<ModelRuntime> => {
      const inner = await defaultLoadRuntime(artifact);
      return {
        ...inner,
        type: inner.type,
        kinds: inner.kinds,
        load: () => inner.load(),
        isReady: () => inner.isReady(),
        predict: (request, ctx) => (inner.predict as NonNullable<ModelRuntime["predict"]>)(request, ctx),
        predictMetadata: () => (inner.predictMetadata as NonNullable<ModelRuntime["predictMetadata"]>)(),
        close: async () => {
          closed.push(artifact.record.version);
          await inner.close();
        },
      };
    };
    const refreshMs = 150;
    const runtime = createRegistryRuntime({
      registry,
      name: "spam-filter",
      alias: "production",
      refreshMs,
      loadRuntime,
    });
    try {
      await runtime.load();
      assert.equal(runtime.servingVersion(), 1);
      const seen: string[] = [];
      const failures: unknown[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try {
            const result = await runtime.predict(textRequest(["win free money now"]), context());
            seen.push(`${result.model_version}:${result.outputs[0]?.data[0]}`);
          } catch (error) {
            failures.push(error);
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const workers = [worker(), worker(), worker()];
      await new Promise((resolve) => setTimeout(resolve, 50));
      await registry.promote("spam-filter", 2, "production");
      const movedAt = performance.now();
      while (runtime.servingVersion() !== 2 && performance.now() - movedAt < 5000)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const rolledAfter = performance.now() - movedAt;
      await new Promise((resolve) => setTimeout(resolve, 50));
      stop = true;
      await Promise.all(workers);

      assert.equal(runtime.servingVersion(), 2);
      // refreshMs bounds the check; the rest is loading v2 in the background (a small model).
      assert.ok(rolledAfter < refreshMs + 1000, `rolled over after ${rolledAfter.toFixed(0)} ms`);
      assert.deepEqual(failures, [], "no request failed during the roll-over");
      assert.ok(seen.includes("1:spam"), "v1 served before");
      assert.ok(seen.includes("2:ham"), "v2 (flipped weights) served after");
      const firstV2 = seen.indexOf("2:ham");
      assert.ok(
        seen.slice(firstV2).every((entry) => entry === "2:ham"),
        "never back to v1 after the switch",
      );
      assert.deepEqual(closed, [1], "the old version is closed once its requests finished");
      assert.equal(await runtime.refresh(), false, "nothing to do when the alias has not moved");
    } finally {
      await runtime.close();
    }
    assert.deepEqual(closed, [1, 2]);
    await assert.rejects(runtime.predict(textRequest(["x"]), context()), code("MP_SHUTTING_DOWN"));
    await registry.promote("spam-filter", 1, "production", { override: { reason: "restore for next tests" } });
  });

  test("a tampered version is refused: the runtime keeps serving the old one and reports the error", async () => {
    await registry.register({
      name: "spam-filter",
      artifact: join(dataDir, "in", "v2"),
      lineage: { dataset, splitSeed: 1 },
    });
    const errors: unknown[] = [];
    const runtime = createRegistryRuntime({
      registry,
      name: "spam-filter",
      alias: "production",
      refreshMs: 0,
      onError: (error) => errors.push(error),
    });
    try {
      await runtime.load();
      const weights = join(registry.directoryOf("spam-filter", 3), "weights.bin");
      await chmod(weights, 0o644);
      await writeFile(weights, Buffer.concat([await readFile(weights), Buffer.from([0])]));
      await registry.promote("spam-filter", 3, "production");
      await assert.rejects(runtime.refresh(), code("MP_ARTIFACT_MODIFIED"));
      assert.equal(errors.length, 1);
      assert.equal(runtime.servingVersion(), 1);
      const result = await runtime.predict(textRequest(["free money"]), context());
      assert.equal(result.model_version, "1");
      const fresh = createRegistryRuntime({ registry, name: "spam-filter", alias: "production", refreshMs: 0 });
      await assert.rejects(fresh.load(), code("MP_ARTIFACT_MODIFIED", /modified after registration/));
      await fresh.close();
    } finally {
      await runtime.close();
    }
  });

  test("an ONNX artifact (external run, no preprocessing) is served as model tensors", async () => {
    const path = join(dataDir, "in", "external.onnx");
    const fixture = await writeTinyOnnxClassifier(path);
    await registry.register({ name: "external", artifact: path, lineage: { runId: "run_ext" } });
    await registry.promote("external", 1, "production");
    const runtime = createRegistryRuntime({ registry, name: "external", alias: "production", refreshMs: 0 });
    try {
      const metadata = await runtime.predictMetadata();
      assert.equal(metadata.platform, "onnxruntime_onnx");
      assert.deepEqual(
        metadata.inputs.map((input) => input.name),
        ["x"],
      );
      const rows = [
        [1, 2, 3, 4],
        [0, -1, 0.5, 2],
      ];
      const result = await runtime.predict(
        { inputs: [{ name: "x", datatype: "FP32", shape: [2, 4], data: rows.flat() }] },
        context(),
      );
      assert.equal(result.model_version, "1");
      const probabilities = result.outputs.find((output) => output.name === "probabilities");
      assertClose(probabilities?.data as number[], fixture.expected(rows).probabilities.flat(), 1e-5);
    } finally {
      await runtime.close();
    }
  });

  test("digits-style: FP32 pixels in, INT64 labels out, matching the bare model on the same features", async () => {
    const directory = join(dataDir, "in", "digits");
    const fixture = await writeTinyTfjsClassifier(directory);
    const table = {
      columns: ["image", "label"],
      rows: [
        [[0, 1, 2, 3], 0],
        [[3, 2, 1, 0], 1],
        [[1, 1, 1, 1], 2],
      ],
    };
    const preprocessor = fitPreprocessor(table as never, {
      steps: [{ kind: "image", column: "image", shape: [4], scale: 0.5 }],
      label: { column: "label", task: "classification" },
    });
    await writeFile(join(directory, "preprocessor.json"), JSON.stringify(preprocessor.toJSON()));
    await writeFile(
      join(directory, "signature.json"),
      JSON.stringify({
        inputs: [{ name: "image", datatype: "FP32", shape: [-1, 4] }],
        outputs: [
          { name: "label", datatype: "INT64", shape: [-1] },
          { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
        ],
        task: "classification",
      }),
    );
    await registry.register({ name: "digits", artifact: directory });
    await registry.promote("digits", 1, "production");
    const pixels = [0.5, 1, 0, 2, 4, 0, 0, 1];
    const runtime = createRegistryRuntime({ registry, name: "digits", alias: "production", refreshMs: 0 });
    const bare = createTfjsRuntime({ path: fixture.modelJsonPath });
    try {
      const result = await runtime.predict(
        { inputs: [{ name: "image", datatype: "FP32", shape: [2, 4], data: pixels }] },
        context(),
      );
      const reference = await bare.predict?.(
        { inputs: [{ name: "features", datatype: "FP32", shape: [2, 4], data: pixels.map((value) => value * 0.5) }] },
        context(),
      );
      const expected = reference?.outputs[0]?.data as number[];
      const [label, probabilities] = result.outputs;
      assert.deepEqual(probabilities, { name: "probabilities", datatype: "FP32", shape: [2, 3], data: expected });
      const argmax = [0, 1].map((row) => {
        const slice = expected.slice(row * 3, row * 3 + 3);
        return slice.indexOf(Math.max(...slice));
      });
      assert.deepEqual(label, { name: "label", datatype: "INT64", shape: [2], data: argmax });
      await assert.rejects(
        runtime.predict({ inputs: [{ name: "image", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] }, context()),
        code("MP_INVALID_REQUEST", /shape/),
      );
    } finally {
      await runtime.close();
      await bare.close();
    }
  });

  test("target parsing and an alias with no version", async () => {
    assert.deepEqual(parseRegistryTarget("registry:spam-filter@production"), {
      name: "spam-filter",
      alias: "production",
    });
    assert.equal(parseRegistryTarget("gpt-4o-mini"), undefined);
    assert.throws(() => parseRegistryTarget("registry:spam-filter@2"), code("MP_CONFIG_INVALID"));
    const runtime = createRegistryRuntime({ registry, name: "spam-filter", alias: "canary", refreshMs: 0 });
    await assert.rejects(runtime.load(), code("MP_MODEL_NOT_READY", /points at no version/));
    assert.equal(runtime.isReady(), false);
    await runtime.close();
  });
});
