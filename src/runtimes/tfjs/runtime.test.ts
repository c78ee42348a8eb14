import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  type TfjsFixture,
  type TfjsMultiOutputFixture,
  writeTinyTfjsClassifier,
  writeTinyTfjsMultiOutputModel,
  writeTinyTfjsTokenModel,
} from "../../../test/fixtures/tfjs-model.js";
import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest } from "../../core/oip-types.js";
import type { ModelRuntime } from "../../core/runtime.js";
import { invokeContext, runtimeContractSuite } from "../../core/testing/runtime-contract.js";
import { fileLoadHandler, fileSaveHandler } from "./file-io.js";
import { createTfjsRuntime } from "./runtime.js";
import { ensureWasmBackend, wasmBackendInfo } from "./wasm-backend.js";

const rows = [0.1, -0.2, 0.3, 0.9, 1.5, 0.25, -0.75, 0.0];

function request(inputName: string, data = rows, shape = [2, 4]): OipInferRequest {
  return { id: "r1", inputs: [{ name: inputName, datatype: "FP32", shape, data }] };
}

function rejectsWith(code: string, ...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof ModelportError, `expected a ModelportError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments)
      assert.ok(error.message.includes(fragment), `"${error.message}" names ${fragment}`);
    return true;
  };
}

let root: string;
let classifier: TfjsFixture;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "modelport-tfjs-"));
  classifier = await writeTinyTfjsClassifier(join(root, "classifier"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

runtimeContractSuite("tfjs", async () => {
  const directory = await mkdtemp(join(tmpdir(), "modelport-tfjs-contract-"));
  const fixture = await writeTinyTfjsClassifier(directory);
  return {
    runtime: createTfjsRuntime({ path: fixture.modelJsonPath }),
    model: "tiny-classifier",
    predict: {
      request: request(fixture.inputName),
      outputNames: [fixture.outputName],
      invalidRequest: request(fixture.inputName, [1, 2, 3, 4, 5, 6], [2, 3]),
    },
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
});

describe("wasm backend", () => {
  it("runs tfjs on the wasm backend, SIMD build, single-threaded in Node", async () => {
    const info = await wasmBackendInfo();
    assert.equal(tf.getBackend(), "wasm");
    assert.equal(info.backend, "wasm");
    assert.equal(info.simd, true, "Node 20 validates wasm SIMD, so the SIMD binary is used");
    assert.equal(info.multithread, false, "one thread unless MODELPORT_TFJS_WASM_THREADS asks for more");
    assert.equal(info.threads, 1);
  });

  it("is idempotent and does not leave emscripten's rethrowing process listeners behind", async () => {
    await Promise.all([ensureWasmBackend(), ensureWasmBackend()]);
    const listeners = {
      uncaughtException: process.listeners("uncaughtException"),
      unhandledRejection: process.listeners("unhandledRejection"),
    };
    for (const [event, list] of Object.entries(listeners)) {
      const rethrowing = list.filter((listener) => /\bthrow\s+(ex|reason)\b/.test(String(listener)));
      assert.equal(rethrowing.length, 0, `${event} has no rethrowing listener`);
    }
  });
});

describe("tfjs runtime", () => {
  let runtime: ModelRuntime;
  before(async () => {
    runtime = createTfjsRuntime({ path: classifier.modelJsonPath });
    await runtime.load();
  });
  after(async () => {
    await runtime.close();
  });

  it("describes inputs and outputs with layer names and -1 for the batch", async () => {
    const metadata = await runtime.predictMetadata?.();
    assert.deepEqual(metadata, {
      platform: "tensorflowjs_layers",
      inputs: [{ name: "features", datatype: "FP32", shape: [-1, 4] }],
      outputs: [{ name: "probabilities", datatype: "FP32", shape: [-1, 3] }],
    });
  });

  it("answers what the model's own predict gives, and what its weights compute by hand", async () => {
    const result = await runtime.predict?.(request("features"), invokeContext());
    assert.ok(result);
    assert.equal(result.id, "r1");
    const [output] = result.outputs;
    assert.ok(output);
    assert.deepEqual(
      { name: output.name, datatype: output.datatype, shape: output.shape },
      {
        name: "probabilities",
        datatype: "FP32",
        shape: [2, 3],
      },
    );

    const model = await tfl.loadLayersModel(fileLoadHandler(classifier.modelJsonPath));
    try {
      const input = tf.tensor2d(rows, [2, 4]);
      const expected = model.predict(input) as tf.Tensor;
      assert.deepEqual(output.data, Array.from(await expected.data()));
      // An independent forward pass from the saved weights: relu(x·W1+b1)·W2+b2, then softmax.
      const [w1, b1, w2, b2] = await Promise.all(model.getWeights().map((weight) => weight.array()));
      tf.dispose([input, expected]);
      for (let row = 0; row < 2; row++) {
        const x = rows.slice(row * 4, row * 4 + 4);
        const hidden = (b1 as number[]).map((bias, j) =>
          Math.max(
            0,
            x.reduce((sum, value, i) => sum + value * ((w1 as number[][])[i]?.[j] ?? 0), bias),
          ),
        );
        const logits = (b2 as number[]).map((bias, k) =>
          hidden.reduce((sum, value, j) => sum + value * ((w2 as number[][])[j]?.[k] ?? 0), bias),
        );
        const exps = logits.map((logit) => Math.exp(logit - Math.max(...logits)));
        const total = exps.reduce((sum, value) => sum + value, 0);
        exps.forEach((value, k) => {
          const got = output.data[row * 3 + k] as number;
          assert.ok(Math.abs(got - value / total) < 1e-5, `row ${row} class ${k}: ${got} vs ${value / total}`);
        });
      }
    } finally {
      model.dispose();
    }
  });

  it("does not leak tensors over 20 predictions, failed ones included", async () => {
    await runtime.predict?.(request("features"), invokeContext());
    const before = tf.memory().numTensors;
    for (let n = 0; n < 20; n++) {
      const result = await runtime.predict?.(request("features"), invokeContext());
      assert.equal(result?.outputs[0]?.data.length, 6);
    }
    await assert.rejects(
      runtime.predict?.(request("features", [1, 2, 3], [1, 3]), invokeContext()) ?? Promise.reject(),
    );
    assert.equal(tf.memory().numTensors, before);
  });

  it("rejects a wrong inner dimension, naming expected and got", async () => {
    await assert.rejects(
      runtime.predict?.(request("features", [1, 2, 3, 4, 5, 6], [2, 3]), invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", "[2,3]", "[-1,4]", "expected 4, got 3"),
    );
    await assert.rejects(
      runtime.predict?.(request("features", [1, 2, 3, 4], [4]), invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", "expected 2 dimensions, got 1"),
    );
    await assert.rejects(
      runtime.predict?.(request("features", [], [0, 4]), invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", "[0,4]", "holds no values"),
    );
  });

  it("rejects unknown, missing, repeated and BYTES inputs", async () => {
    await assert.rejects(
      runtime.predict?.(request("pixels"), invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", 'unknown input "pixels"', '"features"'),
    );
    await assert.rejects(
      runtime.predict?.({ inputs: [] }, invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", 'missing input "features"'),
    );
    const twice = request("features");
    twice.inputs.push({ ...(twice.inputs[0] as OipInferRequest["inputs"][number]) });
    await assert.rejects(
      runtime.predict?.(twice, invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", "more than once"),
    );
    await assert.rejects(
      runtime.predict?.(
        { inputs: [{ name: "features", datatype: "BYTES", shape: [1, 4], data: ["a", "b", "c", "d"] }] },
        invokeContext(),
      ) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", "BYTES"),
    );
  });

  it("accepts other numeric datatypes and nested data, converting to FP32", async () => {
    const flat = await runtime.predict?.(request("features", [1, 0, 2, 0], [1, 4]), invokeContext());
    const nested = await runtime.predict?.(
      { inputs: [{ name: "features", datatype: "INT64", shape: [1, 4], data: [[1, 0, 2, 0]] as never }] },
      invokeContext(),
    );
    assert.deepEqual(nested?.outputs, flat?.outputs);
  });

  it("rejects a request whose signal is already aborted with MP_UPSTREAM_TIMEOUT", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      runtime.predict?.(request("features"), invokeContext({ signal: controller.signal })) ?? Promise.reject(),
      rejectsWith("MP_UPSTREAM_TIMEOUT"),
    );
  });

  it("rejects an unknown requested output", async () => {
    await assert.rejects(
      runtime.predict?.({ ...request("features"), outputs: [{ name: "logits" }] }, invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_INVALID_REQUEST", 'unknown output "logits"', '"probabilities"'),
    );
  });
});

describe("tfjs runtime with several outputs and integer inputs", () => {
  let twoHeads: TfjsMultiOutputFixture;
  let tokens: TfjsFixture;
  before(async () => {
    twoHeads = await writeTinyTfjsMultiOutputModel(join(root, "two-heads"));
    tokens = await writeTinyTfjsTokenModel(join(root, "tokens"));
  });

  it("names outputs after their layers, returns all by default and only those asked for", async () => {
    const runtime = createTfjsRuntime({ path: twoHeads.modelJsonPath });
    try {
      const metadata = await runtime.predictMetadata?.();
      assert.deepEqual(
        metadata?.outputs.map((output) => [output.name, output.shape]),
        [
          ["probabilities", [-1, 3]],
          ["score", [-1, 1]],
        ],
      );
      const all = await runtime.predict?.(request(twoHeads.inputName), invokeContext());
      assert.deepEqual(
        all?.outputs.map((output) => [output.name, output.shape]),
        [
          ["probabilities", [2, 3]],
          ["score", [2, 1]],
        ],
      );
      const one = await runtime.predict?.(
        { ...request(twoHeads.inputName), outputs: [{ name: "score" }] },
        invokeContext(),
      );
      assert.equal(one?.outputs.length, 1);
      assert.deepEqual(one?.outputs[0], all?.outputs[1]);
    } finally {
      await runtime.close();
    }
  });

  it("uses configured input and output names", async () => {
    const runtime = createTfjsRuntime({
      path: twoHeads.modelJsonPath,
      inputNames: ["x"],
      outputNames: ["class_probabilities", "risk"],
    });
    try {
      const result = await runtime.predict?.(request("x"), invokeContext());
      assert.deepEqual(
        result?.outputs.map((output) => output.name),
        ["class_probabilities", "risk"],
      );
      await assert.rejects(
        runtime.predict?.(request("features"), invokeContext()) ?? Promise.reject(),
        rejectsWith("MP_INVALID_REQUEST", 'unknown input "features"', '"x"'),
      );
    } finally {
      await runtime.close();
    }
  });

  it("refuses a name list whose length does not match the model", async () => {
    const runtime = createTfjsRuntime({ path: twoHeads.modelJsonPath, outputNames: ["only-one"] });
    await assert.rejects(runtime.load(), rejectsWith("MP_CONFIG_INVALID", "2 output(s)", "1 outputNames"));
    assert.equal(runtime.isReady(), false);
    await runtime.close();
  });

  it("feeds several inputs by name whatever their order, and checks they share a batch size", async () => {
    const left = tfl.input({ shape: [2], name: "left" });
    const right = tfl.input({ shape: [1], name: "right" });
    const joined = tfl.layers.concatenate({ name: "joined" }).apply([left, right]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [left, right], outputs: joined });
    const directory = join(root, "two-inputs");
    await model.save(fileSaveHandler(directory));
    model.dispose();
    const runtime = createTfjsRuntime({ path: join(directory, "model.json") });
    try {
      const result = await runtime.predict?.(
        {
          inputs: [
            { name: "right", datatype: "FP32", shape: [2, 1], data: [9, 8] },
            { name: "left", datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4] },
          ],
        },
        invokeContext(),
      );
      assert.deepEqual(result?.outputs, [
        { name: "joined", datatype: "FP32", shape: [2, 3], data: [1, 2, 9, 3, 4, 8] },
      ]);
      await assert.rejects(
        runtime.predict?.(
          {
            inputs: [
              { name: "left", datatype: "FP32", shape: [2, 2], data: [1, 2, 3, 4] },
              { name: "right", datatype: "FP32", shape: [1, 1], data: [9] },
            ],
          },
          invokeContext(),
        ) ?? Promise.reject(),
        rejectsWith("MP_INVALID_REQUEST", "different batch sizes (2 and 1)"),
      );
    } finally {
      await runtime.close();
    }
  });

  it("declares INT32 inputs and rejects non-integer values for them", async () => {
    const runtime = createTfjsRuntime({ path: tokens.modelJsonPath });
    try {
      const metadata = await runtime.predictMetadata?.();
      assert.deepEqual(metadata?.inputs, [{ name: "tokens", datatype: "INT32", shape: [-1, 3] }]);
      const result = await runtime.predict?.(
        { inputs: [{ name: "tokens", datatype: "INT32", shape: [2, 3], data: [1, 2, 3, 9, 0, 4] }] },
        invokeContext(),
      );
      assert.deepEqual(result?.outputs[0]?.shape, [2, 2]);
      const [a, b] = (result?.outputs[0]?.data ?? []) as number[];
      assert.ok(Math.abs((a ?? 0) + (b ?? 0) - 1) < 1e-6, "softmax rows sum to 1");
      await assert.rejects(
        runtime.predict?.(
          { inputs: [{ name: "tokens", datatype: "FP32", shape: [1, 3], data: [1.5, 2, 3] }] },
          invokeContext(),
        ) ?? Promise.reject(),
        rejectsWith("MP_INVALID_REQUEST", "inputs.0.data[0]", "INT32"),
      );
    } finally {
      await runtime.close();
    }
  });
});

describe("tfjs runtime lifecycle", () => {
  it("loads once under concurrent load() calls, and close() frees the weights (twice is safe)", async () => {
    await ensureWasmBackend();
    const baseline = tf.memory().numTensors;
    const runtime = createTfjsRuntime({ path: classifier.modelJsonPath });
    assert.equal(runtime.isReady(), false);
    await Promise.all([runtime.load(), runtime.load(), runtime.predictMetadata?.()]);
    assert.equal(runtime.isReady(), true);
    assert.equal(tf.memory().numTensors - baseline, 4, "one copy of the 4 weight tensors");
    await runtime.close();
    await runtime.close();
    assert.equal(runtime.isReady(), false);
    assert.equal(tf.memory().numTensors, baseline);
  });

  it("loads lazily on the first predict", async () => {
    const runtime = createTfjsRuntime({ path: classifier.modelJsonPath });
    try {
      const result = await runtime.predict?.(request("features"), invokeContext());
      assert.equal(result?.outputs[0]?.name, "probabilities");
      assert.equal(runtime.isReady(), true);
    } finally {
      await runtime.close();
    }
  });
});

describe("tfjs model files", () => {
  it("round-trips a model through save and load with identical weights and topology", async () => {
    await ensureWasmBackend();
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [3], units: 5, activation: "tanh", name: "a" }));
    model.add(tfl.layers.dense({ units: 2, name: "b" }));
    const directory = join(root, "round-trip");
    const saved = await model.save(fileSaveHandler(directory));
    assert.ok((saved.modelArtifactsInfo.weightDataBytes ?? 0) > 0);

    const json = JSON.parse(await readFile(join(directory, "model.json"), "utf8"));
    assert.equal(json.format, "layers-model");
    assert.ok(json.modelTopology.config, "modelTopology is the Keras-style JSON");
    assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
    assert.equal((await stat(join(directory, "weights.bin"))).size, (3 * 5 + 5 + 5 * 2 + 2) * 4);

    const loaded = await tfl.loadLayersModel(fileLoadHandler(join(directory, "model.json")));
    try {
      const original = model.getWeights();
      const restored = loaded.getWeights();
      assert.equal(restored.length, original.length);
      for (const [index, weight] of original.entries()) {
        const copy = restored[index] as tf.Tensor;
        assert.deepEqual(copy.shape, weight.shape);
        assert.deepEqual(Buffer.from((await copy.data()).buffer), Buffer.from((await weight.data()).buffer));
      }
      assert.deepEqual(
        loaded.layers.map((layer) => layer.name),
        model.layers.map((layer) => layer.name),
      );
    } finally {
      model.dispose();
      loaded.dispose();
    }
  });

  it("refuses to save into a path that is a file", async () => {
    const file = join(root, "not-a-directory");
    await writeFile(file, "x");
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [1], units: 1 })] });
    try {
      await assert.rejects(model.save(fileSaveHandler(file)), rejectsWith("MP_STORAGE_ERROR", file));
    } finally {
      model.dispose();
    }
  });

  async function copyClassifier(name: string): Promise<{ directory: string; modelJson: string; json: unknown }> {
    const directory = join(root, name);
    const fixture = await writeTinyTfjsClassifier(directory);
    return {
      directory,
      modelJson: fixture.modelJsonPath,
      json: JSON.parse(await readFile(fixture.modelJsonPath, "utf8")),
    };
  }

  it("reports a missing model.json as MP_MODEL_NOT_READY naming the path", async () => {
    const path = join(root, "nowhere", "model.json");
    const runtime = createTfjsRuntime({ path });
    await assert.rejects(runtime.load(), rejectsWith("MP_MODEL_NOT_READY", path, "does not exist"));
    assert.equal(runtime.isReady(), false);
    await assert.rejects(
      runtime.predict?.(request("features"), invokeContext()) ?? Promise.reject(),
      rejectsWith("MP_MODEL_NOT_READY", path),
    );
    await runtime.close();
  });

  it("reports a model.json that is not JSON or not a layers model", async () => {
    const { modelJson } = await copyClassifier("corrupt-json");
    await writeFile(modelJson, '{"modelTopology": {"class_name": "Sequ');
    await assert.rejects(
      createTfjsRuntime({ path: modelJson }).load(),
      rejectsWith("MP_MODEL_NOT_READY", modelJson, "not valid JSON"),
    );
    await writeFile(modelJson, JSON.stringify({ weightsManifest: [] }));
    await assert.rejects(
      createTfjsRuntime({ path: modelJson }).load(),
      rejectsWith("MP_MODEL_NOT_READY", modelJson, "modelTopology"),
    );
  });

  it("reports a topology tfjs cannot build", async () => {
    const { modelJson, json } = await copyClassifier("bad-topology");
    const broken = json as { modelTopology: { class_name: string } };
    broken.modelTopology.class_name = "NoSuchModelClass";
    await writeFile(modelJson, JSON.stringify(broken));
    await assert.rejects(
      createTfjsRuntime({ path: modelJson }).load(),
      rejectsWith("MP_MODEL_NOT_READY", modelJson, "could not be loaded"),
    );
  });

  it("reports missing and truncated weights", async () => {
    const { directory, modelJson } = await copyClassifier("bad-weights");
    const weights = join(directory, "weights.bin");
    const bytes = await readFile(weights);
    await writeFile(weights, bytes.subarray(0, bytes.length - 8));
    await assert.rejects(
      createTfjsRuntime({ path: modelJson }).load(),
      rejectsWith("MP_MODEL_NOT_READY", modelJson, `hold ${bytes.length - 8} bytes`, `describes ${bytes.length}`),
    );
    await rm(weights);
    await assert.rejects(
      createTfjsRuntime({ path: modelJson }).load(),
      rejectsWith("MP_MODEL_NOT_READY", weights, "does not exist"),
    );
  });

  it("refuses weight paths outside the model directory", async () => {
    const { modelJson, json } = await copyClassifier("escaping");
    const manifest = json as { weightsManifest: { paths: string[] }[] };
    for (const path of ["../classifier/weights.bin", "/etc/passwd", "http://example.com/w.bin"]) {
      (manifest.weightsManifest[0] as { paths: string[] }).paths = [path];
      await writeFile(modelJson, JSON.stringify(manifest));
      await assert.rejects(createTfjsRuntime({ path: modelJson }).load(), rejectsWith("MP_MODEL_NOT_READY", path));
    }
  });

  it("refuses an empty runtime path at construction", () => {
    assert.throws(() => createTfjsRuntime({ path: "" }), rejectsWith("MP_CONFIG_INVALID", "path"));
  });
});
