import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { openTrainingBench, sentimentTable, type TrainingBench } from "./training-helpers.js";

// The commands as a user runs them: a separate process with commander, the storage `serve` uses
// (SQLite in --data-dir) and the tenant named `default`. main.ts wiring is the integrator's, so
// the entry here registers just these two command groups.
const root = resolve(import.meta.dirname, "..");

function cli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = `
    import { Command } from "commander";
    import { registerTrain } from ${JSON.stringify(join(root, "src/cli/commands/train.ts"))};
    import { registerRuns } from ${JSON.stringify(join(root, "src/cli/commands/runs.ts"))};
    const program = new Command("modelport").exitOverride();
    registerTrain(program);
    registerRuns(program);
    try { await program.parseAsync(process.argv); } catch (error) { process.stderr.write(String(error?.message ?? error) + "\\n"); process.exitCode = 1; }
  `;
  const env: NodeJS.ProcessEnv = { ...process.env, MODELPORT_DATA_DIR: dataDir };
  delete env.MODELPORT_DATABASE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", entry, "modelport", ...args],
      { cwd: root, env, timeout: 120_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("modelport train / runs / run", () => {
  let bench: TrainingBench;
  before(async () => {
    bench = await openTrainingBench(["ten_default"]);
    await bench.handle.db.updateTable("tenants").set({ name: "default" }).where("id", "=", "ten_default").execute();
    await bench.load("reviews", sentimentTable(120));
    await bench.handle.close();
  });
  after(async () => {
    await bench?.close().catch(() => undefined);
  });

  test("train → runs list/show/compare → run -- python3", async () => {
    const first = await cli(bench.dataDir, [
      "train",
      "--dataset",
      "reviews",
      "--template",
      "bow",
      "--epochs",
      "3",
      "--lr",
      "0.2",
      "--json",
    ]);
    assert.equal(first.code, 0, first.stderr);
    const trained = JSON.parse(first.stdout) as { runId: string; metrics: { accuracy: number }; directory: string };
    assert.match(trained.runId, /^run_/);
    assert.ok(trained.metrics.accuracy >= 0.8, `accuracy ${trained.metrics.accuracy}`);
    const second = await cli(bench.dataDir, [
      "train",
      "--dataset",
      "reviews",
      "--template",
      "bow",
      "--epochs",
      "2",
      "--seed",
      "7",
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /succeeded in .*\ntest metrics: accuracy=/);
    assert.match(second.stderr, /epoch 2\/2 \[#+\] /, "progress lines on stderr");

    const list = await cli(bench.dataDir, ["runs", "list", "--json"]);
    const runs = JSON.parse(list.stdout) as { id: string; status: string }[];
    assert.equal(runs.length, 2);
    assert.ok(runs.every((run) => run.status === "succeeded"));
    const show = await cli(bench.dataDir, ["runs", "show", trained.runId]);
    assert.match(show.stdout, /val_accuracy/);
    assert.match(show.stdout, /model\.json \d+ B sha256 [0-9a-f]{64}/);
    const compare = await cli(bench.dataDir, [
      "runs",
      "compare",
      runs[0]?.id as string,
      runs[1]?.id as string,
      "--json",
    ]);
    const comparison = JSON.parse(compare.stdout) as { params: Record<string, unknown[]> };
    assert.deepEqual(comparison.params.epochs?.slice().sort(), [2, 3]);

    const script = join(bench.dataDir, "job.py");
    await writeFile(
      script,
      'import json, os\nprint(json.dumps({"modelport": "metric", "name": "loss", "value": float(os.environ["MODELPORT_PARAM_LR"])}))\n',
    );
    const external = await cli(bench.dataDir, [
      "run",
      "--name",
      "py",
      "--param",
      "lr=0.25",
      "--json",
      "--",
      "python3",
      script,
    ]);
    assert.equal(external.code, 0, external.stderr);
    const detail = JSON.parse(external.stdout) as { run: { status: string; params: object }; finalMetrics: object };
    assert.equal(detail.run.status, "succeeded");
    assert.deepEqual(detail.run.params, { lr: "0.25" });
    assert.deepEqual(detail.finalMetrics, { loss: 0.25 });

    const failing = await cli(bench.dataDir, ["run", "--", "python3", "-c", "import sys; sys.exit(4)"]);
    assert.equal(failing.code, 4, "the program's exit code is the CLI's");
    const bad = await cli(bench.dataDir, ["train", "--dataset", "reviews", "--template", "gpt"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--template must be one of/);
  });
});
