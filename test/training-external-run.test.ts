import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import ort from "onnxruntime-node";
import { paramEnvName, runExternal } from "../src/training/tracking/external-run.js";
import { createTrackingStore, type TrackingStore } from "../src/training/tracking/tracking-store.js";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import { openTrainingBench, type TrainingBench } from "./training-helpers.js";

// A training program in another language: reads its params from the environment, logs metrics
// through the tracking HTTP API and as JSON lines, and writes an ONNX model it then logs.
const script = `
import json, os, shutil, sys, urllib.request
uri = os.environ["MODELPORT_TRACKING_URI"]
run = os.environ["MODELPORT_RUN_ID"]
epochs = int(os.environ["MODELPORT_PARAM_EPOCHS"])
lr = float(os.environ["MODELPORT_PARAM_LEARNING_RATE"])
def post(path, body):
    request = urllib.request.Request(uri + "/runs/" + run + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())
post("/params", {"framework": "numpy-free"})
loss = 1.0
for epoch in range(1, epochs + 1):
    loss = loss * (1 - lr)
    post("/metrics", {"name": "loss", "value": loss, "step": epoch})
    print(json.dumps({"modelport": "metric", "name": "accuracy", "value": 0.5 + epoch / 10, "step": epoch}), flush=True)
print("plain output is echoed, not parsed", flush=True)
print(json.dumps({"modelport": "metric", "name": "bad name!", "value": 1}), flush=True)
shutil.copyfile(os.environ["ONNX_SOURCE"], "model.onnx")
print(json.dumps({"modelport": "artifact", "path": "model.onnx"}), flush=True)
post("/artifacts", {"path": "model.onnx"})
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
`;

describe("external runs (modelport run -- <command>)", () => {
  let bench: TrainingBench;
  let store: TrackingStore;
  let scriptPath: string;
  let onnxSource: string;
  before(async () => {
    bench = await openTrainingBench();
    store = createTrackingStore({ db: bench.handle.db });
    scriptPath = join(bench.dataDir, "train.py");
    await writeFile(scriptPath, script);
    onnxSource = join(bench.dataDir, "source.onnx");
    await writeTinyOnnxClassifier(onnxSource);
  });
  after(async () => {
    await bench?.close();
  });

  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
  };

  test("a Python script logs params, metrics (HTTP and stdout) and an ONNX artifact; the run is recorded", async () => {
    const out = capture();
    const err = capture();
    const result = await runExternal({
      store,
      tenantId: bench.tenantId,
      command: ["python3", scriptPath],
      name: "python-train",
      params: { epochs: "3", learning_rate: "0.5" },
      cwd: bench.dataDir,
      env: { ONNX_SOURCE: onnxSource },
      stdout: out.stream,
      stderr: err.stream,
    });
    assert.equal(result.exitCode, 0, err.text());
    const { run, metrics, finalMetrics, artifacts } = result.detail;
    assert.equal(run.status, "succeeded");
    assert.equal(run.kind, "external");
    assert.equal(run.name, "python-train");
    assert.equal(run.command, `python3 ${scriptPath}`);
    assert.equal(run.exitCode, 0);
    assert.ok((run.durationMs ?? -1) >= 0);
    assert.deepEqual(run.params, { epochs: "3", learning_rate: "0.5", framework: "numpy-free" });
    assert.deepEqual(metrics.loss, [
      { step: 1, value: 0.5 },
      { step: 2, value: 0.25 },
      { step: 3, value: 0.125 },
    ]);
    assert.deepEqual(
      metrics.accuracy?.map((point) => point.value),
      [0.6, 0.7, 0.8],
    );
    assert.equal(finalMetrics.accuracy, 0.8);
    const bytes = await readFile(join(bench.dataDir, "model.onnx"));
    assert.deepEqual(artifacts, [
      {
        path: "model.onnx",
        sha256: createHash("sha256").update(bytes).digest("hex"),
        size: bytes.length,
        createdAt: artifacts[0]?.createdAt,
      },
    ]);
    // The artifact is a real ONNX model the onnx runtime can serve.
    const session = await ort.InferenceSession.create(join(bench.dataDir, "model.onnx"));
    assert.ok(session.inputNames.length > 0);
    await session.release();
    assert.match(out.text(), /plain output is echoed/);
    assert.equal(result.rejected.length, 1, "the bad metric name was reported, not recorded");
    assert.match(err.text(), /ignored log line/);
    assert.equal(paramEnvName("learning-rate"), "MODELPORT_PARAM_LEARNING_RATE");
  });

  test("a non-zero exit marks the run failed with the code; a missing program fails with 127", async () => {
    const quiet = capture();
    const failed = await runExternal({
      store,
      tenantId: bench.tenantId,
      command: ["python3", scriptPath],
      params: { epochs: "1", learning_rate: "0.1" },
      cwd: bench.dataDir,
      env: { ONNX_SOURCE: onnxSource, EXIT_CODE: "3" },
      stdout: quiet.stream,
      stderr: quiet.stream,
    });
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.detail.run.status, "failed");
    assert.equal(failed.detail.run.error, "exited with code 3");
    assert.equal(failed.detail.metrics.loss?.length, 1, "metrics logged before the failure are kept");

    const missing = await runExternal({
      store,
      tenantId: bench.tenantId,
      command: ["modelport-no-such-program-xyz"],
      stdout: quiet.stream,
      stderr: quiet.stream,
    });
    assert.equal(missing.exitCode, 127);
    assert.equal(missing.detail.run.status, "failed");
    assert.match(missing.detail.run.error ?? "", /could not start/);
    await assert.rejects(runExternal({ store, tenantId: bench.tenantId, command: [] }), /needs a command/);
  });

  test("the tracking API only accepts its own run and valid bodies", async () => {
    const quiet = capture();
    const other = await store.createRun(bench.tenantId, { name: "other" });
    const probe = `
import json, os, urllib.request, urllib.error
uri = os.environ["MODELPORT_TRACKING_URI"]
def post(path, body, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(uri + path, data=data, method="POST")) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
print(json.dumps({"other": post("/runs/${other.id}/metrics", {"name": "loss", "value": 1}),
                  "bad_json": post("/runs/" + os.environ["MODELPORT_RUN_ID"] + "/metrics", None, b"{nope"),
                  "bad_value": post("/runs/" + os.environ["MODELPORT_RUN_ID"] + "/metrics", {"name": "loss", "value": "x"}),
                  "no_route": post("/nothing", {})}))
`;
    const probePath = join(bench.dataDir, "probe.py");
    await writeFile(probePath, probe);
    const out = capture();
    const result = await runExternal({
      store,
      tenantId: bench.tenantId,
      command: ["python3", probePath],
      cwd: bench.dataDir,
      stdout: out.stream,
      stderr: quiet.stream,
    });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(JSON.parse(out.text().trim()), { other: 404, bad_json: 400, bad_value: 400, no_route: 404 });
    assert.deepEqual((await store.showRun(bench.tenantId, other.id)).metrics, {}, "other run untouched");
  });
});
