import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { writeTinyOnnxClassifier } from "../../../test/fixtures/onnx-model.js";
import { ModelportError } from "../../core/errors.js";
import { fromRunError } from "./engine-errors.js";

/**
 * The adapter checks requests itself before running, so the engine's own input errors are a
 * fallback. These tests feed a real session bad input directly and check the engine's actual
 * messages are still classified as the client's fault.
 */
describe("onnxruntime error classification", () => {
  let directory: string;
  let session: InferenceSession;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), "modelport-onnx-errors-"));
    const path = join(directory, "model.onnx");
    await writeTinyOnnxClassifier(path);
    session = await InferenceSession.create(path, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
  });
  after(async () => {
    await session?.release();
    await rm(directory, { recursive: true, force: true });
  });

  async function engineError(run: () => Promise<unknown>): Promise<unknown> {
    try {
      await run();
    } catch (error) {
      return error;
    }
    assert.fail("the engine accepted bad input");
  }

  const badRuns: [string, () => Promise<unknown>][] = [
    ["a wrong inner dimension", () => session.run({ x: new Tensor("float32", new Float32Array(5), [1, 5]) })],
    ["a wrong rank", () => session.run({ x: new Tensor("float32", new Float32Array(4), [4]) })],
    ["a wrong element type", () => session.run({ x: new Tensor("float64", new Float64Array(4), [1, 4]) })],
    ["a missing feed", () => session.run({})],
    ["an unknown fetch", () => session.run({ x: new Tensor("float32", new Float32Array(4), [1, 4]) }, ["nope"])],
  ];
  for (const [label, run] of badRuns) {
    it(`maps ${label} to MP_INVALID_REQUEST with the engine's message`, async () => {
      const original = await engineError(run);
      const mapped = fromRunError(original);
      assert.equal(mapped.code, "MP_INVALID_REQUEST", mapped.message);
      assert.match(mapped.message, /^onnxruntime: /);
      assert.equal(mapped.cause, original);
    });
  }

  it("maps other engine failures to MP_RUNTIME_ERROR and passes ModelportErrors through", () => {
    assert.equal(
      fromRunError(new Error("Non-zero status code returned while running Add node")).code,
      "MP_RUNTIME_ERROR",
    );
    const own = new ModelportError("MP_UNSUPPORTED", "already classified");
    assert.equal(fromRunError(own), own);
  });
});
