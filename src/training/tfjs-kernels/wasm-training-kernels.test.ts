import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
// The pure-JS CPU backend is the reference implementation; it is a dependency of
// @tensorflow/tfjs-backend-wasm, so it is always installed alongside it.
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ModelportError } from "../../core/errors.js";
import { ensureWasmBackend, wasmBackendInfo } from "../../runtimes/tfjs/wasm-backend.js";
import { conv2dBackpropFilterWasm, type FilterGradientMethod } from "./conv2d-backprop-filter.js";
import { createKernelRunner, type KernelBackend } from "./kernel-runner.js";
import { registerWasmTrainingKernels } from "./register-wasm-training-kernels.js";

type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];

/** Deterministic values in [-1, 1) (mulberry32), so failures reproduce. */
function randomValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `compute` with every tensor on the given backend and returns the values it produced. */
async function valuesOn(backend: "cpu" | "wasm", compute: () => tf.Tensor): Promise<Float32Array> {
  if (backend === "cpu") await tf.setBackend("cpu");
  else await ensureWasmBackend();
  try {
    const result = tf.tidy(compute);
    const values = Float32Array.from(result.dataSync());
    result.dispose();
    return values;
  } finally {
    await ensureWasmBackend();
  }
}

/**
 * `base` for results of magnitude up to 8, growing with larger ones: float32 rounding is relative,
 * and the big cases' sums (12544 products for a filter gradient) reach ~100.
 */
function scaled(base: number, expected: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i] as number));
  return base * Math.max(1, largest / 8);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs((actual[i] as number) - (expected[i] as number));
    if (!(difference <= worst)) {
      worst = difference;
      worstAt = i;
    }
  }
  assert.ok(
    worst <= tolerance,
    `${label}: max |difference| ${worst} at ${worstAt} (${actual[worstAt]} vs ${expected[worstAt]}) > ${tolerance}`,
  );
}

function outputShape(xShape: number[], filterShape: number[], strides: number | [number, number], pad: Pad): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
  );
  return info.outShape;
}

/** dW by its definition, in float64: an implementation independent of tfjs. */
function naiveFilterGradient(
  x: Float32Array,
  xShape: number[],
  dy: Float32Array,
  filterShape: number[],
  strides: [number, number],
  pad: Pad,
): Float64Array {
  const [n, h, w, c] = xShape as [number, number, number, number];
  const [fh, fw, , oc] = filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
  );
  const { outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const dw = new Float64Array(fh * fw * c * oc);
  for (let a = 0; a < fh; a++)
    for (let b = 0; b < fw; b++)
      for (let ci = 0; ci < c; ci++)
        for (let o = 0; o < oc; o++) {
          let sum = 0;
          for (let ni = 0; ni < n; ni++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                const row = i * strides[0] + a - top;
                const column = j * strides[1] + b - left;
                if (row < 0 || row >= h || column < 0 || column >= w) continue;
                sum +=
                  (x[((ni * h + row) * w + column) * c + ci] as number) *
                  (dy[((ni * oh + i) * ow + j) * oc + o] as number);
              }
          dw[((a * fw + b) * c + ci) * oc + o] = sum;
        }
  return dw;
}

interface ConvCase {
  x: number[];
  filter: number[];
  strides: [number, number];
  pad: Pad;
}

const convCases: ConvCase[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: "same" },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: "valid" },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: "same" },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: [2, 2], pad: "valid" },
  { x: [2, 8, 8, 2], filter: [3, 3, 2, 5], strides: [2, 2], pad: "same" },
  { x: [2, 9, 8, 2], filter: [5, 5, 2, 3], strides: [1, 1], pad: "same" },
  { x: [2, 9, 8, 2], filter: [5, 5, 2, 3], strides: [2, 2], pad: "same" },
  { x: [1, 6, 7, 2], filter: [2, 3, 2, 3], strides: [2, 3], pad: "valid" },
  { x: [3, 5, 5, 4], filter: [1, 1, 4, 6], strides: [1, 1], pad: "valid" },
  { x: [2, 6, 6, 1], filter: [3, 3, 1, 8], strides: [1, 1], pad: "same" },
  // inChannels % 4 = 0 and outChannels % 8 = 0: the register-blocked SIMD filter gradient.
  { x: [2, 7, 7, 4], filter: [3, 3, 4, 8], strides: [1, 1], pad: "same" },
  { x: [2, 9, 8, 8], filter: [3, 3, 8, 16], strides: [2, 2], pad: "same" },
  { x: [3, 6, 5, 4], filter: [2, 3, 4, 8], strides: [1, 2], pad: "valid" },
  { x: [2, 5, 5, 4], filter: [1, 1, 4, 12], strides: [1, 1], pad: "valid" },
  // 3×3 stride 1 with channel counts the Winograd convolutions take (forward: C % 4, OC % 8;
  // input gradient: OC % 4, C % 8), odd output sizes (partial tiles) and explicit padding.
  { x: [2, 7, 9, 8], filter: [3, 3, 8, 8], strides: [1, 1], pad: "same" },
  { x: [2, 6, 5, 8], filter: [3, 3, 8, 4], strides: [1, 1], pad: "valid" },
  // Big enough to be split across threads (multi-threaded build): more than one chunk of 64
  // Winograd tiles, and a first layer's direct filter gradient over 2M multiply-adds.
  { x: [2, 16, 17, 4], filter: [3, 3, 4, 8], strides: [1, 1], pad: "same" },
  { x: [16, 28, 28, 1], filter: [3, 3, 1, 32], strides: [1, 1], pad: "same" },
  { x: [1, 5, 6, 4], filter: [3, 3, 4, 16], strides: [1, 1], pad: "valid" },
  {
    x: [1, 5, 6, 8],
    filter: [3, 3, 8, 8],
    strides: [1, 1],
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 4, 4, 8],
    filter: [3, 3, 8, 8],
    strides: [1, 1],
    pad: [
      [0, 0],
      [3, 1],
      [1, 4],
      [0, 0],
    ],
  },
  {
    x: [2, 8, 8, 3],
    filter: [3, 3, 3, 2],
    strides: [1, 1],
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  {
    x: [2, 8, 7, 2],
    filter: [3, 3, 2, 2],
    strides: [2, 2],
    pad: [
      [0, 0],
      [1, 0],
      [0, 2],
      [0, 0],
    ],
  },
];

const describeCase = (c: ConvCase) => `x[${c.x}] filter[${c.filter}] strides ${c.strides} pad ${JSON.stringify(c.pad)}`;

describe("registerWasmTrainingKernels before the backend is up", () => {
  it("refuses to register, without starting the backend itself", () => {
    assert.throws(
      () => registerWasmTrainingKernels(),
      (error: unknown) => error instanceof ModelportError && error.code === "MP_MODEL_NOT_READY",
    );
    assert.equal(tf.engine().registry.wasm, undefined);
  });
});

describe("wasm training kernels", () => {
  before(async () => {
    await ensureWasmBackend();
    // wasm-training-kernels-threaded.test.ts runs this file again with the multi-threaded build.
    const threads = Number(process.env.MODELPORT_TFJS_WASM_THREADS ?? 1);
    const info = await wasmBackendInfo();
    assert.equal(info.kernelThreads, threads);
    assert.equal(info.multithread, threads > 1);
    assert.equal(info.threads, 1, "XNNPACK's own pool stays single-threaded");
    const first = registerWasmTrainingKernels();
    assert.deepEqual(first.added, ["Conv2DBackpropFilter"]);
    assert.deepEqual(first.replaced.sort(), [
      "BatchMatMul",
      "Cast",
      "Conv2D",
      "Conv2DBackpropInput",
      "Identity",
      "MaxPoolGrad",
      "Sum",
    ]);
  });

  it("is idempotent", () => {
    assert.deepEqual(registerWasmTrainingKernels(), { added: [], replaced: [] });
    assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"));
  });

  describe("Conv2DBackpropFilter", () => {
    for (const c of convCases) {
      it(`equals the CPU backend for ${describeCase(c)}`, async () => {
        const dyShape = outputShape(c.x, c.filter, c.strides, c.pad);
        const x = randomValues(sizeOf(c.x), 1);
        const dy = randomValues(sizeOf(dyShape), 2);
        const run = () =>
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropFilter",
              { x: tf.tensor(x, c.x), dy: tf.tensor(dy, dyShape) },
              { strides: c.strides, pad: c.pad, dataFormat: "NHWC", filterShape: c.filter },
            ) as tf.Tensor;
        const expected = await valuesOn("cpu", run);
        assertClose(await valuesOn("wasm", run), expected, scaled(1e-4, expected), describeCase(c));
        // And against the definition, independent of tfjs.
        const naive = naiveFilterGradient(x, c.x, dy, c.filter, c.strides, c.pad);
        assertClose(expected, naive, scaled(1e-4, naive), "cpu vs naive");
      });
    }

    it("gives the same result with every formulation", async () => {
      await ensureWasmBackend();
      const backend = tf.backend() as unknown as KernelBackend;
      const methods: FilterGradientMethod[] = ["winograd", "simd", "transposed-conv", "input-as-filter", "im2col"];
      for (const c of convCases) {
        const dyShape = outputShape(c.x, c.filter, c.strides, c.pad);
        const x = tf.tensor(randomValues(sizeOf(c.x), 3), c.x);
        const dy = tf.tensor(randomValues(sizeOf(dyShape), 4), dyShape);
        const reference = naiveFilterGradient(
          x.dataSync() as Float32Array,
          c.x,
          dy.dataSync() as Float32Array,
          c.filter,
          c.strides,
          c.pad,
        );
        for (const method of methods) {
          const info = conv2dBackpropFilterWasm(
            backend,
            createKernelRunner(backend, "wasm"),
            x,
            dy,
            {
              strides: c.strides,
              pad: c.pad,
              dataFormat: "NHWC",
              dimRoundingMode: undefined,
              filterShape: c.filter as never,
            },
            method,
          );
          const result = tf.engine().makeTensorFromTensorInfo(info);
          assert.deepEqual(result.shape, c.filter);
          assertClose(result.dataSync(), reference, scaled(1e-4, reference), `${method} ${describeCase(c)}`);
          result.dispose();
        }
        tf.dispose([x, dy]);
      }
    });

    it("handles NCHW inputs", async () => {
      const xShape = [2, 3, 6, 6];
      const filterShape = [3, 3, 3, 4];
      const dyShape = [2, 4, 6, 6];
      const x = randomValues(sizeOf(xShape), 5);
      const dy = randomValues(sizeOf(dyShape), 6);
      const run = () =>
        tf
          .engine()
          .runKernel(
            "Conv2DBackpropFilter",
            { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) },
            { strides: [1, 1], pad: "same", dataFormat: "NCHW", filterShape },
          ) as tf.Tensor;
      // The CPU backend's NCHW path is the same math on transposed data; compare in NHWC there.
      const expected = await valuesOn(
        "cpu",
        () =>
          tf.engine().runKernel(
            "Conv2DBackpropFilter",
            {
              x: tf.transpose(tf.tensor(x, xShape), [0, 2, 3, 1]),
              dy: tf.transpose(tf.tensor(dy, dyShape), [0, 2, 3, 1]),
            },
            { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape },
          ) as tf.Tensor,
      );
      assertClose(await valuesOn("wasm", run), expected, 1e-4, "NCHW");
    });

    it("rejects a dy that does not match the convolution", async () => {
      await ensureWasmBackend();
      const x = tf.zeros([1, 6, 6, 2]);
      const dy = tf.zeros([1, 5, 6, 3]);
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropFilter",
              { x, dy },
              { strides: [1, 1], pad: "same", dataFormat: "NHWC", filterShape: [3, 3, 2, 3] },
            ),
        /dy has shape \[1,5,6,3\] but the convolution outputs \[1,6,6,3\]/,
      );
      tf.dispose([x, dy]);
    });

    it("drives tf.grads of conv2d on wasm to the CPU backend's gradients", async () => {
      const xShape = [2, 9, 9, 3];
      const filterShape = [3, 3, 3, 5];
      const x = randomValues(sizeOf(xShape), 7);
      const filter = randomValues(sizeOf(filterShape), 8);
      const gradient = (which: 0 | 1) => () => {
        const loss = (input: tf.Tensor, weights: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(input as tf.Tensor4D, weights as tf.Tensor4D, 2, "same")));
        return tf.grads(loss)([tf.tensor(x, xShape), tf.tensor(filter, filterShape)])[which] as tf.Tensor;
      };
      for (const which of [0, 1] as const) {
        const expected = await valuesOn("cpu", gradient(which));
        assertClose(await valuesOn("wasm", gradient(which)), expected, 1e-3, which ? "dW" : "dx");
      }
    });
  });

  describe("Conv2D", () => {
    for (const c of convCases) {
      it(`equals the CPU backend for ${describeCase(c)}`, async () => {
        const x = randomValues(sizeOf(c.x), 21);
        const filter = randomValues(sizeOf(c.filter), 22);
        const run = () =>
          tf.conv2d(
            tf.tensor4d(x, c.x as [number, number, number, number]),
            tf.tensor4d(filter, c.filter as [number, number, number, number]),
            c.strides,
            c.pad as "same",
          );
        const expected = await valuesOn("cpu", run);
        assertClose(await valuesOn("wasm", run), expected, scaled(1e-4, expected), describeCase(c));
      });
    }
  });

  describe("Conv2DBackpropInput", () => {
    for (const c of convCases) {
      it(`equals the CPU backend for ${describeCase(c)}`, async () => {
        const dyShape = outputShape(c.x, c.filter, c.strides, c.pad);
        const dy = randomValues(sizeOf(dyShape), 9);
        const filter = randomValues(sizeOf(c.filter), 10);
        const run = () =>
          tf
            .engine()
            .runKernel(
              "Conv2DBackpropInput",
              { dy: tf.tensor(dy, dyShape), filter: tf.tensor(filter, c.filter) },
              { strides: c.strides, pad: c.pad, dataFormat: "NHWC", inputShape: c.x },
            ) as tf.Tensor;
        const expected = await valuesOn("cpu", run);
        assertClose(await valuesOn("wasm", run), expected, scaled(1e-4, expected), describeCase(c));
      });
    }
  });

  describe("MaxPoolGrad", () => {
    const poolCases: { x: number[]; size: [number, number]; strides: [number, number]; pad: "same" | "valid" }[] = [
      { x: [2, 8, 8, 3], size: [2, 2], strides: [2, 2], pad: "valid" },
      { x: [2, 7, 9, 3], size: [2, 2], strides: [2, 2], pad: "valid" },
      { x: [2, 7, 7, 2], size: [2, 2], strides: [2, 2], pad: "same" },
      { x: [2, 9, 9, 2], size: [3, 3], strides: [3, 3], pad: "valid" },
      { x: [2, 9, 8, 2], size: [3, 3], strides: [2, 2], pad: "same" },
      { x: [1, 6, 6, 4], size: [3, 3], strides: [1, 1], pad: "valid" },
      { x: [1, 6, 7, 1], size: [2, 3], strides: [2, 1], pad: "same" },
      // channels % 4 = 0: the SIMD 2×2 kernel, also with rows and columns past the last window.
      { x: [2, 8, 8, 4], size: [2, 2], strides: [2, 2], pad: "valid" },
      { x: [2, 7, 9, 8], size: [2, 2], strides: [2, 2], pad: "valid" },
      { x: [1, 6, 6, 12], size: [2, 2], strides: [2, 2], pad: "same" },
      { x: [8, 64, 64, 16], size: [2, 2], strides: [2, 2], pad: "valid" },
    ];
    for (const c of poolCases) {
      it(`equals the CPU backend, ties included, for x[${c.x}] pool ${c.size}/${c.strides} ${c.pad}`, async () => {
        // Small integers after a ReLU: many windows hold their maximum more than once.
        const x = Float32Array.from(randomValues(sizeOf(c.x), 11), (v) => Math.max(0, Math.round(v * 3)));
        const run = () => {
          const input = tf.tensor4d(x, c.x as [number, number, number, number]);
          const output = tf.maxPool(input, c.size, c.strides, c.pad);
          const dy = tf.tensor(randomValues(output.size, 12), output.shape);
          return tf
            .engine()
            .runKernel(
              "MaxPoolGrad",
              { dy, input, output },
              { filterSize: c.size, strides: c.strides, pad: c.pad },
            ) as tf.Tensor;
        };
        assertClose(await valuesOn("wasm", run), await valuesOn("cpu", run), 1e-6, JSON.stringify(c));
      });
    }
  });

  describe("Sum and BatchMatMul", () => {
    it("sums over leading axes (and anything else) like the CPU backend", async () => {
      const shape = [4, 3, 5, 6];
      const values = randomValues(sizeOf(shape), 13);
      for (const [axis, keepDims] of [
        [[0, 1, 2], false],
        [[0, 1, 2], true],
        [[1, 0], false],
        [0, false],
        [[-4, -3], true],
        [[1, 2], false],
        [[3], false],
        [[0, 1, 2, 3], false],
      ] as [number | number[], boolean][]) {
        const run = () => tf.sum(tf.tensor(values, shape), axis, keepDims);
        const label = `sum axis ${JSON.stringify(axis)} keepDims ${keepDims}`;
        assertClose(await valuesOn("wasm", run), await valuesOn("cpu", run), 1e-5, label);
        await ensureWasmBackend();
        const result = run();
        const cpuShape = tf.tidy(() => tf.sum(tf.zeros(shape), axis, keepDims).shape);
        assert.deepEqual(result.shape, cpuShape, label);
        result.dispose();
      }
    });

    it("sums many rows (several float32 blocks) of a SIMD-wide row like the CPU backend", async () => {
      const shape = [3, 200, 8];
      const values = randomValues(sizeOf(shape), 20);
      const run = () => tf.sum(tf.tensor(values, shape), [0, 1]);
      assertClose(await valuesOn("wasm", run), await valuesOn("cpu", run), 1e-4, "sum of 600 rows");
    });

    it("multiplies with transposed operands like the CPU backend", async () => {
      const cases: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
        { a: [5, 7], b: [5, 3], transposeA: true, transposeB: false },
        { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
        { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
        { a: [2, 4, 6], b: [2, 5, 6], transposeA: false, transposeB: true },
        { a: [3, 6, 4], b: [1, 6, 2], transposeA: true, transposeB: false },
        // Few rows against a wide Bᵀ: computed as Cᵀ = B·Aᵀ (the dense-layer dx = dy·Wᵀ case).
        { a: [2, 4], b: [50, 4], transposeA: false, transposeB: true },
        { a: [4, 2], b: [50, 4], transposeA: true, transposeB: true },
        { a: [3, 2, 4], b: [3, 40, 4], transposeA: false, transposeB: true },
        { a: [1, 2, 4], b: [3, 40, 4], transposeA: false, transposeB: true },
        // Shapes the wasm SIMD products take: plain (N % 8), transposeA (M % 4, N % 8), transposeB
        // (K % 4, N % 4), with tail rows, batches and a single matrix broadcast over a batch.
        { a: [7, 5], b: [5, 16], transposeA: false, transposeB: false },
        { a: [3, 6, 9], b: [3, 9, 8], transposeA: false, transposeB: false },
        { a: [6, 9], b: [2, 9, 8], transposeA: false, transposeB: false },
        { a: [5, 8], b: [5, 24], transposeA: true, transposeB: false },
        { a: [2, 5, 12], b: [2, 5, 8], transposeA: true, transposeB: false },
        { a: [5, 12], b: [20, 12], transposeA: false, transposeB: true },
        { a: [4, 3, 8], b: [4, 12, 8], transposeA: false, transposeB: true },
        { a: [2, 1, 3, 8], b: [1, 4, 8], transposeA: false, transposeB: true },
        // Over 2M multiply-adds: rows split across threads on the multi-threaded build.
        { a: [66, 256], b: [256, 128], transposeA: false, transposeB: false },
        { a: [66, 256], b: [128, 256], transposeA: false, transposeB: true },
      ];
      for (const c of cases) {
        const a = randomValues(sizeOf(c.a), 14);
        const b = randomValues(sizeOf(c.b), 15);
        const run = () => tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), c.transposeA, c.transposeB);
        // float32 rounding grows with the length of the dot products.
        const inner = (c.transposeA ? c.a.at(-2) : c.a.at(-1)) as number;
        const tolerance = 1e-5 * Math.max(1, inner / 16);
        assertClose(await valuesOn("wasm", run), await valuesOn("cpu", run), tolerance, JSON.stringify(c));
      }
    });
  });

  it("shares storage for Identity and same-dtype Cast, and frees it with the last user", async () => {
    await ensureWasmBackend();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const buffers = backend.numDataIds();
    const a = tf.tensor([1.5, -2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(b, "float32");
    assert.equal(backend.numDataIds(), buffers + 1, "one buffer for all three");
    a.dispose();
    b.dispose();
    assert.deepEqual([...c.dataSync()], [1.5, -2, 3]);
    const d = tf.cast(c, "int32");
    assert.equal(backend.numDataIds(), buffers + 2, "a real conversion gets its own buffer");
    assert.deepEqual([...d.dataSync()], [1, -2, 3]);
    tf.dispose([c, d]);
    assert.equal(backend.numDataIds(), buffers);
  });

  it("computes conv-net gradients without leaking tensors or wasm buffers", async () => {
    await ensureWasmBackend();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor(randomValues(2 * 12 * 12 * 1, 16), [2, 12, 12, 1]) as tf.Tensor4D;
    const w1 = tf.variable(tf.tensor(randomValues(3 * 3 * 1 * 4, 17), [3, 3, 1, 4]));
    const w2 = tf.variable(tf.tensor(randomValues(3 * 3 * 4 * 6, 18), [3, 3, 4, 6]));
    const loss = () =>
      tf.tidy(() => {
        const a = tf.maxPool(tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same")), 2, 2, "valid");
        const b = tf.conv2d(a, w2 as tf.Tensor4D, 2, "same");
        return tf.sum(tf.matMul(tf.reshape(b, [2, -1]), tf.reshape(b, [2, -1]), false, true));
      }) as tf.Scalar;
    tf.dispose(tf.variableGrads(loss).grads); // warm-up: lazily created constants
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      const { value, grads } = tf.variableGrads(loss);
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(backend.numDataIds(), buffers);
    tf.dispose([x, w1, w2]);
  });

  it("trains a small CNN on wasm: the loss falls and it learns the task", async () => {
    await ensureWasmBackend();
    // Label: is the bright blob in the left or the right half of an 8×8 image?
    const count = 64;
    const noise = randomValues(count * 64, 19);
    const images = new Float32Array(count * 64);
    const labels = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      const right = i % 2;
      const row = (i * 3) % 6;
      const column = right ? 5 + (i % 2) : (i % 2) + 0;
      for (let p = 0; p < 64; p++) images[i * 64 + p] = 0.1 * (noise[i * 64 + p] as number);
      for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) images[i * 64 + (row + dr) * 8 + column + dc] = 1;
      labels[i * 2 + right] = 1;
    }
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          padding: "same",
          activation: "relu",
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
        }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({
          units: 2,
          activation: "softmax",
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const xs = tf.tensor4d(images, [count, 8, 8, 1]);
    const ys = tf.tensor2d(labels, [count, 2]);
    const history = await model.fit(xs, ys, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
    assert.equal(tf.getBackend(), "wasm");
    const losses = history.history.loss as number[];
    const accuracy = history.history.acc as number[];
    assert.ok(
      (losses.at(-1) as number) < 0.5 * (losses[0] as number),
      `loss should at least halve: ${losses.map((l) => l.toFixed(3)).join(" ")}`,
    );
    assert.ok((accuracy.at(-1) as number) >= 0.9, `accuracy ${accuracy.at(-1)}`);
    model.dispose();
    tf.dispose([xs, ys]);
  });
});
