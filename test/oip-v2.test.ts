import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import { writeTinyTfjsClassifier } from "./fixtures/tfjs-model.js";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";

/** Open Inference Protocol v2 over real onnxruntime and TensorFlow.js models. */
describe("OIP v2 predict endpoints", () => {
  let dir: string;
  let gateway: TestGateway;
  let onnx: Awaited<ReturnType<typeof writeTinyOnnxClassifier>>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-oip-"));
    onnx = await writeTinyOnnxClassifier(join(dir, "tiny.onnx"));
    const tfjs = await writeTinyTfjsClassifier(join(dir, "tfjs"));
    gateway = await startTestGateway({
      providers: {
        onnx: { type: "onnx", path: join(dir, "tiny.onnx"), intraOpThreads: 1 },
        tfjs: { type: "tfjs", path: tfjs.modelJsonPath },
      },
      endpoints: {
        iris: { kind: "predict", targets: [{ provider: "onnx" }] },
        digits: { kind: "predict", targets: [{ provider: "tfjs" }] },
      },
    });
  });
  after(async () => {
    await gateway?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers health without a key", async () => {
    assert.deepEqual(await (await fetch(`${gateway.url}/v2/health/live`)).json(), { live: true });
    assert.deepEqual(await (await fetch(`${gateway.url}/v2/health/ready`)).json(), { ready: true });
  });

  it("requires a key for model routes", async () => {
    assert.equal((await fetch(`${gateway.url}/v2/models/iris`)).status, 401);
    const body = (await (await fetch(`${gateway.url}/v2/models/iris`)).json()) as { error: unknown };
    assert.equal(typeof body.error, "string", "OIP error shape");
  });

  it("describes the model's tensors", async () => {
    const response = await gateway.call("/v2/models/iris");
    assert.equal(response.status, 200);
    const metadata = (await response.json()) as {
      name: string;
      platform: string;
      inputs: { name: string; datatype: string; shape: number[] }[];
    };
    assert.equal(metadata.name, "iris");
    assert.equal(metadata.platform, "onnxruntime_onnx");
    assert.deepEqual(metadata.inputs[0], { name: "x", datatype: "FP32", shape: [-1, 4] });
  });

  it("reports readiness", async () => {
    const response = await gateway.call("/v2/models/iris/ready");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: "iris", ready: true });
  });

  it("infers with onnxruntime and returns the exact numbers", async () => {
    const rows = [
      [1, 2, 3, 4],
      [0.5, -1, 0, 2],
    ];
    const response = await gateway.call("/v2/models/iris/infer", {
      id: "my-request",
      inputs: [{ name: "x", datatype: "FP32", shape: [2, 4], data: rows.flat() }],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      model_name: string;
      id: string;
      outputs: { name: string; shape: number[]; data: number[] }[];
    };
    assert.equal(body.model_name, "iris");
    assert.equal(body.id, "my-request");
    const probabilities = body.outputs.find((output) => output.name === "probabilities");
    assert.deepEqual(probabilities?.shape, [2, 3]);
    const expected = onnx.expected(rows).probabilities.flat();
    assert.equal(probabilities?.data.length, expected.length);
    for (const [index, value] of (probabilities?.data ?? []).entries())
      assert.ok(Math.abs(value - (expected[index] ?? Number.NaN)) < 1e-5);
  });

  it("infers with TensorFlow.js, including the versioned path", async () => {
    const response = await gateway.call("/v2/models/digits/versions/1/infer", {
      inputs: [{ name: "features", datatype: "FP32", shape: [1, 4], data: [0.1, 0.2, 0.3, 0.4] }],
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    const body = JSON.parse(text) as { outputs: { shape: number[]; data: number[] }[] };
    const sum = body.outputs[0]?.data.reduce((total, value) => total + value, 0) ?? 0;
    assert.ok(Math.abs(sum - 1) < 1e-5, "softmax outputs sum to 1");
  });

  it("rejects malformed tensors with 400 in OIP's error shape", async () => {
    const cases = [
      { inputs: [] },
      { inputs: [{ name: "x", datatype: "FP32", shape: [1, 4], data: [1, 2, 3] }] },
      { inputs: [{ name: "x", datatype: "FP99", shape: [1, 4], data: [1, 2, 3, 4] }] },
      { inputs: [{ name: "x", datatype: "FP32", shape: [1, 5], data: [1, 2, 3, 4, 5] }] },
      { inputs: [{ name: "nope", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] }] },
      { inputs: [{ name: "x", datatype: "INT8", shape: [1, 4], data: [1, 2, 3, 999] }] },
    ];
    for (const body of cases) {
      const response = await gateway.call("/v2/models/iris/infer", body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = (await response.json()) as { error: string };
      assert.equal(typeof error.error, "string");
    }
  });

  it("404 for an unknown model, 400 for chat endpoints on /v2", async () => {
    const response = await gateway.call("/v2/models/nope/infer", { inputs: [] });
    assert.equal(response.status, 404);
  });
});
