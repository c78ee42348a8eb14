import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

// The multi-threaded wasm build is chosen once per process (MODELPORT_TFJS_WASM_THREADS), so the
// kernel tests run again in a child process with it: XNNPACK on 2 threads, and the SIMD kernels
// split across worker threads that share the heap.
describe("wasm training kernels on the multi-threaded build", () => {
  it("pass every kernel test with 2 threads", { timeout: 180_000 }, () => {
    const testFile = join(dirname(fileURLToPath(import.meta.url)), "wasm-training-kernels.test.ts");
    // Without NODE_TEST_CONTEXT (set when this file itself runs under --test) the child reports
    // in TAP instead of the runner's internal protocol.
    const { NODE_TEST_CONTEXT: _context, ...environment } = process.env;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", testFile], {
      encoding: "utf8",
      env: { ...environment, MODELPORT_TFJS_WASM_THREADS: "2" },
      timeout: 170_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    const passed = Number(/^# pass (\d+)/m.exec(output)?.[1] ?? 0);
    const failed = Number(/^# fail (\d+)/m.exec(output)?.[1] ?? -1);
    assert.equal(result.status, 0, output.slice(-4000));
    assert.equal(failed, 0, output.slice(-4000));
    assert.ok(passed >= 80, `only ${passed} tests passed:\n${output.slice(-2000)}`);
  });
});
