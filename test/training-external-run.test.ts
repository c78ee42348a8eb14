import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import { paramEnvName, runExternal } from "../src/training/tracking/external-run.js";
import { createTrackingStore, type TrackingStore } from "../src/training/tracking/tracking-store.js";
import { writeTinyOnnxClassifier } from "./fixtures/onnx-model.js";
import { type ServeProcess, startServeProcess } from "./helpers/cli.js";
import { openTrainingBench, type TrainingBench } from "./training-helpers.js";

const bin = fileURLToPath(new URL("../bin/modelport.js", import.meta.url));

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

// A training program in plain Node with no ML library: fits y = w·x + b by gradient descent,
// logs its loss and learned weights as JSON lines, and writes the model as ONNX by encoding the
// protobuf by hand (so nothing of Modelport's own ONNX tooling is involved).
const linearScript = `
import { writeFileSync } from "node:fs";
const epochs = Number(process.env.MODELPORT_PARAM_EPOCHS);
const lr = Number(process.env.MODELPORT_PARAM_LR);
const say = (message) => console.log(JSON.stringify({ modelport: message.kind, ...message, kind: undefined }));
let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const rows = Array.from({ length: 200 }, () => {
  const x1 = random() * 2 - 1, x2 = random() * 2 - 1;
  return [x1, x2, 2 * x1 - 3 * x2 + 0.5];
});
let w1 = 0, w2 = 0, b = 0;
for (let epoch = 1; epoch <= epochs; epoch++) {
  let g1 = 0, g2 = 0, gb = 0, loss = 0;
  for (const [x1, x2, y] of rows) {
    const e = w1 * x1 + w2 * x2 + b - y;
    loss += e * e; g1 += e * x1; g2 += e * x2; gb += e;
  }
  const n = rows.length;
  w1 -= (lr * 2 * g1) / n; w2 -= (lr * 2 * g2) / n; b -= (lr * 2 * gb) / n;
  if (epoch % 50 === 0) say({ kind: "metric", name: "mse", value: loss / n, step: epoch });
}
const weights = [Math.fround(w1), Math.fround(w2), Math.fround(b)];
weights.forEach((value, i) => say({ kind: "param", name: ["w1", "w2", "b"][i], value }));

// protobuf wire format: varint keys, length-delimited submessages
const varint = (n) => { const out = []; while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); } out.push(n); return out; };
const field = (number, bytes) => [...varint((number << 3) | 2), ...varint(bytes.length), ...bytes];
const int = (number, n) => [...varint(number << 3), ...varint(n)];
const text = (number, s) => field(number, [...Buffer.from(s)]);
const floats = (values) => [...new Uint8Array(new Float32Array(values).buffer)];
const FLOAT = 1;
const tensor = (name, dims, values) => [...dims.flatMap((d) => int(1, d)), ...int(2, FLOAT), ...text(8, name), ...field(9, floats(values))];
const dim = (d) => field(1, typeof d === "number" ? int(1, d) : text(2, d));
const valueInfo = (name, dims) => [...text(1, name), ...field(2, field(1, [...int(1, FLOAT), ...field(2, dims.flatMap(dim))]))];
const node = (op, inputs, outputs) => [...inputs.flatMap((i) => text(1, i)), ...outputs.flatMap((o) => text(2, o)), ...text(3, op.toLowerCase()), ...text(4, op)];
const graph = [
  ...field(1, node("MatMul", ["x", "W"], ["xw"])),
  ...field(1, node("Add", ["xw", "B"], ["y"])),
  ...text(2, "linear"),
  ...field(5, tensor("W", [2, 1], weights.slice(0, 2))),
  ...field(5, tensor("B", [1], weights.slice(2))),
  ...field(11, valueInfo("x", ["N", 2])),
  ...field(12, valueInfo("y", ["N", 1])),
];
const model = [...int(1, 8), ...text(2, "hand-written-node"), ...field(7, graph), ...field(8, [...text(1, ""), ...int(2, 13)])];
writeFileSync("model.onnx", Buffer.from(model));
say({ kind: "artifact", path: "model.onnx" });
`;

describe("external run → models register → serve (the ONNX artifact over OIP v2)", () => {
  let dir: string;
  let dataDir: string;
  let serve: ServeProcess | undefined;
  const adminToken = "external-chain-admin-token";
  const env = { MODELPORT_DATABASE_URL: "", MODELPORT_MASTER_KEY: "", MODELPORT_REDIS_URL: "" };
  const storage = () => ["--data-dir", dataDir];

  /** The real `modelport` command, run in the program's working directory. */
  const modelport = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: dir,
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
      child.on("error", fail);
      child.on("close", (code) => done({ code, stdout, stderr }));
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "modelport-external-chain-"));
    dataDir = join(dir, "data");
    await writeFile(join(dir, "train-linear.mjs"), linearScript);
  });
  after(async () => {
    await serve?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a Node script's hand-written ONNX model is tracked, registered, deployed and served with the weights it learned", async () => {
    const tenant = await modelport(["tenants", "create", "default", ...storage()]);
    assert.equal(tenant.code, 0, tenant.stderr);

    const run = await modelport([
      "run",
      "--name",
      "linear",
      "--param",
      "epochs=400",
      "--param",
      "lr=0.2",
      "--json",
      ...storage(),
      "--",
      "node",
      "train-linear.mjs",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const detail = JSON.parse(run.stdout) as {
      run: { id: string; status: string; params: Record<string, unknown> };
      metrics: Record<string, { step: number; value: number }[]>;
      artifacts: { path: string; sha256: string }[];
    };
    assert.equal(detail.run.status, "succeeded");
    assert.deepEqual(
      detail.metrics.mse?.map((point) => point.step),
      [50, 100, 150, 200, 250, 300, 350, 400],
    );
    const mse = detail.metrics.mse?.map((point) => point.value) ?? [];
    assert.ok((mse[mse.length - 1] as number) < 1e-6 && (mse[0] as number) > (mse[mse.length - 1] as number), `${mse}`);
    const { w1, w2, b } = detail.run.params as { w1: number; w2: number; b: number };
    assert.ok(Math.abs(w1 - 2) < 1e-3 && Math.abs(w2 + 3) < 1e-3 && Math.abs(b - 0.5) < 1e-3, `${w1} ${w2} ${b}`);
    assert.equal(detail.artifacts.length, 1);
    const artifact = detail.artifacts[0] as { path: string; sha256: string };
    assert.equal(artifact.path, "model.onnx");

    const registered = await modelport([
      "models",
      "register",
      "--name",
      "linear",
      "--artifact",
      join(dir, "model.onnx"),
      "--run",
      detail.run.id,
      "--json",
      ...storage(),
    ]);
    assert.equal(registered.code, 0, registered.stderr);
    const version = JSON.parse(registered.stdout) as { version: number; sha256: string; lineage: { runId?: string } };
    assert.equal(version.version, 1);
    assert.equal(version.sha256, artifact.sha256, "the registry holds exactly the bytes the run logged");
    assert.equal(version.lineage.runId, detail.run.id);
    const promoted = await modelport(["models", "promote", "linear@1", "--alias", "production", ...storage()]);
    assert.equal(promoted.code, 0, promoted.stderr);
    const config = join(dir, "modelport.yaml");
    const deployed = await modelport([
      "deploy",
      "linear",
      "--alias",
      "production",
      "--endpoint",
      "linear",
      "--config",
      config,
      ...storage(),
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);

    serve = await startServeProcess(["--config", config, "--port", "0", ...storage()], {
      ...env,
      MODELPORT_ADMIN_TOKEN: adminToken,
    });
    const keyResponse = await fetch(`${serve.url}/admin/v1/tenants/default/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(keyResponse.status, 201);
    const { key } = (await keyResponse.json()) as { key: string };
    const rows = [
      [1, 2],
      [-0.5, 0.25],
      [0, 0],
    ];
    const response = await fetch(`${serve.url}/v2/models/linear/infer`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [3, 2], data: rows.flat() }] }),
    });
    const body = (await response.json()) as {
      model_version: string;
      outputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
    };
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.model_version, "1");
    const y = body.outputs.find((output) => output.name === "y");
    assert.equal(y?.datatype, "FP32");
    assert.deepEqual(y?.shape, [3, 1]);
    const expected = rows.map(([x1, x2]) => (x1 as number) * w1 + (x2 as number) * w2 + b);
    y?.data.forEach((value, i) => {
      assert.ok(Math.abs(value - (expected[i] as number)) < 1e-5, `row ${i}: ${value} vs ${expected[i]}`);
    });
  });
});
