import assert from "node:assert/strict";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  echoBigFactor,
  type TinyClassifier,
  writeEchoOnnxModel,
  writeTinyOnnxClassifier,
} from "../../../test/fixtures/onnx-model.js";
import { ModelportError } from "../../core/errors.js";
import type { OipInferRequest, OipTensor } from "../../core/oip-types.js";
import { invokeContext, runtimeContractSuite } from "../../core/testing/runtime-contract.js";
import { createOnnxRuntime, type OnnxRuntime } from "./runtime.js";

function rowsRequest(rows: number[][]): OipInferRequest {
  return { inputs: [{ name: "x", datatype: "FP32", shape: [rows.length, 4], data: rows.flat() }] };
}

function assertClose(actual: OipTensor["data"] | undefined, expected: number[], label: string): void {
  assert.ok(actual, `${label} is present`);
  assert.equal(actual.length, expected.length, `${label} length`);
  expected.forEach((value, index) => {
    const got = actual[index];
    assert.equal(typeof got, "number", `${label}[${index}] is a number`);
    assert.ok(Math.abs((got as number) - value) <= 1e-5, `${label}[${index}]: got ${got}, expected ${value}`);
  });
}

function rejectsWith(code: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ModelportError, `expected a ModelportError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

let directory: string;
let classifierPath: string;
let classifier: TinyClassifier;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "modelport-onnx-"));
  classifierPath = join(directory, "classifier.onnx");
  classifier = await writeTinyOnnxClassifier(classifierPath);
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

runtimeContractSuite("onnx", async () => {
  // The contract suite's `before` may run before this file's, so it builds its own copy.
  const own = await mkdtemp(join(tmpdir(), "modelport-onnx-contract-"));
  const fixture = await writeTinyOnnxClassifier(join(own, "model.onnx"));
  return {
    runtime: createOnnxRuntime({ path: join(own, "model.onnx"), intraOpThreads: 1 }),
    model: "tiny-classifier",
    predict: {
      request: rowsRequest([[1, 2, 3, 4]]),
      outputNames: fixture.outputNames,
      invalidRequest: { inputs: [{ name: "x", datatype: "FP32", shape: [1, 5], data: [1, 2, 3, 4, 5] }] },
    },
    dispose: () => rm(own, { recursive: true, force: true }),
  };
});

describe("onnx runtime: tiny classifier", () => {
  const runtime = () => createOnnxRuntime({ path: classifierPath, intraOpThreads: 1 });
  let shared: OnnxRuntime;
  before(async () => {
    shared = runtime();
    await shared.load();
  });
  after(() => shared.close());

  it("computes softmax(xW + b) exactly for a batch of two", async () => {
    const rows = [
      [1, 2, 3, 4],
      [-0.5, 0.25, 0, 2],
    ];
    const result = await shared.predict(rowsRequest(rows), invokeContext());
    assert.ok(result);
    const expected = classifier.expected(rows);
    assert.deepEqual(
      result.outputs.map((output) => output.name),
      ["logits", "probabilities"],
    );
    const [logits, probabilities] = result.outputs;
    assert.equal(logits?.datatype, "FP32");
    assert.deepEqual(logits?.shape, [2, 3]);
    assert.deepEqual(probabilities?.shape, [2, 3]);
    assertClose(logits?.data, expected.logits.flat(), "logits");
    assertClose(probabilities?.data, expected.probabilities.flat(), "probabilities");
  });

  it("describes its signature with -1 for the dynamic batch dimension", async () => {
    const metadata = await shared.predictMetadata();
    assert.deepEqual(metadata, {
      platform: "onnxruntime_onnx",
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 4] }],
      outputs: [
        { name: "logits", datatype: "FP32", shape: [-1, 3] },
        { name: "probabilities", datatype: "FP32", shape: [-1, 3] },
      ],
    });
  });

  it("returns only the requested outputs, in the requested order", async () => {
    const rows = [[0, 1, 0, 1]];
    const only = await shared.predict({ ...rowsRequest(rows), outputs: [{ name: "probabilities" }] }, invokeContext());
    assert.deepEqual(
      only?.outputs.map((output) => output.name),
      ["probabilities"],
    );
    assertClose(only?.outputs[0]?.data, classifier.expected(rows).probabilities.flat(), "probabilities");
    const both = await shared.predict(
      { ...rowsRequest(rows), outputs: [{ name: "probabilities" }, { name: "logits" }] },
      invokeContext(),
    );
    assert.deepEqual(
      both?.outputs.map((output) => output.name),
      ["probabilities", "logits"],
    );
  });

  it("echoes the request id", async () => {
    const result = await shared.predict({ id: "abc-1", ...rowsRequest([[0, 0, 0, 0]]) }, invokeContext());
    assert.equal(result?.id, "abc-1");
  });

  it("rejects an unknown requested output", async () => {
    await assert.rejects(
      shared.predict({ ...rowsRequest([[0, 0, 0, 0]]), outputs: [{ name: "scores" }] }, invokeContext()),
      rejectsWith("MP_INVALID_REQUEST", /unknown output scores/),
    );
  });

  it("rejects an unknown input name, naming it", async () => {
    const request: OipInferRequest = {
      inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }],
    };
    await assert.rejects(
      shared.predict(request, invokeContext()),
      rejectsWith("MP_INVALID_REQUEST", /unknown input features.*takes x/),
    );
  });

  it("rejects a request without the model's input, naming it", async () => {
    await assert.rejects(
      shared.predict({ inputs: [] }, invokeContext()),
      rejectsWith("MP_INVALID_REQUEST", /missing input x/),
    );
  });

  it("rejects an input given twice", async () => {
    const tensor: OipTensor = { name: "x", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] };
    await assert.rejects(
      shared.predict({ inputs: [tensor, tensor] }, invokeContext()),
      rejectsWith("MP_INVALID_REQUEST", /more than once/),
    );
  });

  it("rejects a datatype the model input does not take", async () => {
    const request: OipInferRequest = { inputs: [{ name: "x", datatype: "FP64", shape: [1, 4], data: [1, 2, 3, 4] }] };
    await assert.rejects(
      shared.predict(request, invokeContext()),
      rejectsWith("MP_INVALID_REQUEST", /must be FP32, got FP64/),
    );
  });

  it("rejects a wrong inner dimension and a wrong rank", async () => {
    const wide: OipInferRequest = { inputs: [{ name: "x", datatype: "FP32", shape: [1, 5], data: [1, 2, 3, 4, 5] }] };
    await assert.rejects(shared.predict(wide, invokeContext()), rejectsWith("MP_INVALID_REQUEST", /\[1,5\].*\[-1,4\]/));
    const flat: OipInferRequest = { inputs: [{ name: "x", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] }] };
    await assert.rejects(shared.predict(flat, invokeContext()), rejectsWith("MP_INVALID_REQUEST", /\[4\]/));
  });

  it("rejects data whose length does not match the shape", async () => {
    const request: OipInferRequest = { inputs: [{ name: "x", datatype: "FP32", shape: [2, 4], data: [1, 2, 3, 4] }] };
    await assert.rejects(shared.predict(request, invokeContext()), rejectsWith("MP_INVALID_REQUEST", /needs 8/));
  });

  it("refuses to run when the request is already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("deadline"));
    await assert.rejects(
      shared.predict(rowsRequest([[1, 1, 1, 1]]), invokeContext({ signal: controller.signal })),
      rejectsWith("MP_UPSTREAM_TIMEOUT", /aborted before inference/),
    );
  });

  it("keeps concurrent predictions apart", async () => {
    const batches = [1, 2, 3, 4, 5, 6].map((seed) => [
      [seed, -seed, seed / 2, 1],
      [0, seed, 1, -1],
    ]);
    const results = await Promise.all(batches.map((rows) => shared.predict(rowsRequest(rows), invokeContext())));
    results.forEach((result, index) => {
      const expected = classifier.expected(batches[index] ?? []);
      assertClose(result?.outputs[1]?.data, expected.probabilities.flat(), `batch ${index} probabilities`);
    });
  });

  it("loads once for concurrent load calls and lazily on first predict", async () => {
    const lazy = runtime();
    try {
      assert.equal(lazy.isReady(), false);
      const result = await lazy.predict(rowsRequest([[1, 0, 0, 0]]), invokeContext());
      assert.equal(result?.outputs.length, 2);
      assert.equal(lazy.isReady(), true);
    } finally {
      await lazy.close();
    }
    const eager = runtime();
    try {
      await Promise.all([eager.load(), eager.load(), eager.load()]);
      assert.equal(eager.isReady(), true);
    } finally {
      await eager.close();
    }
  });

  it("finishes in-flight predictions on close, then refuses new ones", async () => {
    const closing = runtime();
    await closing.load();
    const pending = [1, 2, 3].map(() => closing.predict(rowsRequest([[1, 2, 3, 4]]), invokeContext()));
    await closing.close();
    for (const result of await Promise.all(pending)) assert.equal(result?.outputs.length, 2);
    assert.equal(closing.isReady(), false);
    await assert.rejects(
      closing.predict(rowsRequest([[1, 2, 3, 4]]), invokeContext()),
      rejectsWith("MP_MODEL_NOT_READY", /closed/),
    );
    await closing.close(); // twice is safe
    await closing.load(); // an explicit load re-opens it
    assert.equal(closing.isReady(), true);
    await closing.close();
  });
});

describe("onnx runtime: model files that cannot load", () => {
  it("reports a missing file as MP_MODEL_NOT_READY naming the path, and loads once it appears", async () => {
    const path = join(directory, "later.onnx");
    const runtime = createOnnxRuntime({ path });
    await assert.rejects(runtime.load(), rejectsWith("MP_MODEL_NOT_READY", /later\.onnx/));
    assert.equal(runtime.isReady(), false);
    await assert.rejects(
      runtime.predict(rowsRequest([[1, 2, 3, 4]]), invokeContext()),
      rejectsWith("MP_MODEL_NOT_READY"),
    );
    // A failed load is not cached: once the file exists, the same runtime loads it.
    await copyFile(classifierPath, path);
    await runtime.load();
    assert.equal(runtime.isReady(), true);
    await runtime.close();
  });

  it("reports a corrupt file as MP_MODEL_NOT_READY naming the path", async () => {
    const path = join(directory, "corrupt.onnx");
    await writeFile(path, "this is not a protobuf model");
    const runtime = createOnnxRuntime({ path });
    await assert.rejects(runtime.load(), rejectsWith("MP_MODEL_NOT_READY", /corrupt\.onnx/));
    assert.equal(runtime.isReady(), false);
    await runtime.close();
  });
});

describe("onnx runtime: element types", () => {
  let echo: OnnxRuntime;
  before(async () => {
    const path = join(directory, "echo.onnx");
    await writeEchoOnnxModel(path);
    echo = createOnnxRuntime({ path, intraOpThreads: 1 });
    await echo.load();
  });
  after(() => echo.close());

  const inputs = (i64: number[]): OipTensor[] => [
    { name: "i64", datatype: "INT64", shape: [2], data: i64 },
    { name: "i32", datatype: "INT32", shape: [2], data: [-2_147_483_648, 7] },
    { name: "f64", datatype: "FP64", shape: [2], data: [0.1, -1e300] },
    { name: "f16", datatype: "FP16", shape: [2], data: [1.5, 0.1] },
    { name: "flag", datatype: "BOOL", shape: [2], data: [true, false] },
    { name: "u8", datatype: "UINT8", shape: [2], data: [0, 255] },
    { name: "text", datatype: "BYTES", shape: [2], data: ["héllo 👋", ""] },
  ];

  it("describes every OIP datatype of the model", async () => {
    const metadata = await echo.predictMetadata();
    assert.deepEqual(
      metadata?.inputs.map((input) => `${input.name}:${input.datatype}`),
      ["i64:INT64", "i32:INT32", "f64:FP64", "f16:FP16", "flag:BOOL", "u8:UINT8", "text:BYTES"],
    );
  });

  it("round-trips each datatype through the engine", async () => {
    const safe = [Number.MIN_SAFE_INTEGER, 3];
    const outputNames = ["i64_out", "i32_out", "f64_out", "f16_out", "flag_out", "u8_out", "text_out"];
    const result = await echo.predict(
      { inputs: inputs(safe), outputs: outputNames.map((name) => ({ name })) },
      invokeContext(),
    );
    const byName = new Map(result?.outputs.map((output) => [output.name, output]));
    assert.deepEqual(byName.get("i64_out"), { name: "i64_out", datatype: "INT64", shape: [2], data: safe });
    assert.deepEqual(byName.get("i32_out")?.data, [-2_147_483_648, 7]);
    assert.deepEqual(byName.get("f64_out")?.data, [0.1, -1e300]);
    // 0.1 has no exact half; the nearest is 0.0999755859375.
    assert.deepEqual(byName.get("f16_out"), {
      name: "f16_out",
      datatype: "FP16",
      shape: [2],
      data: [1.5, 0.0999755859375],
    });
    assert.deepEqual(byName.get("flag_out"), { name: "flag_out", datatype: "BOOL", shape: [2], data: [true, false] });
    assert.deepEqual(byName.get("u8_out")?.data, [0, 255]);
    assert.deepEqual(byName.get("text_out"), {
      name: "text_out",
      datatype: "BYTES",
      shape: [2],
      data: ["héllo 👋", ""],
    });
  });

  it("converts INT64 outputs that stay within ±2^53 to numbers", async () => {
    const result = await echo.predict({ inputs: inputs([1, -3]), outputs: [{ name: "big_out" }] }, invokeContext());
    assert.deepEqual(result?.outputs[0]?.data, [Number(echoBigFactor), -3 * Number(echoBigFactor)]);
  });

  it("fails with MP_RUNTIME_ERROR when an INT64 output is beyond what JSON numbers hold", async () => {
    await assert.rejects(
      echo.predict({ inputs: inputs([1, 2 ** 13]), outputs: [{ name: "big_out" }] }, invokeContext()),
      rejectsWith("MP_RUNTIME_ERROR", /big_out holds 9007199254740992/),
    );
  });
});
