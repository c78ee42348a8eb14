import {
  add,
  addF32,
  addF32x4,
  and128,
  andNot128,
  assembleModule,
  bitselect128,
  block,
  br,
  brIf,
  broadcastLane,
  type Code,
  divS,
  FunctionBuilder,
  f32,
  forRange,
  geS,
  get,
  gtF32x4,
  i32,
  type Local,
  loadF32,
  loadSplatF32,
  loadV128,
  loop,
  ltS,
  max,
  min,
  mul,
  mulF32x4,
  select,
  set,
  splatF32,
  storeF32,
  storeV128,
  sub,
} from "./wasm-assembler.js";

/**
 * Hand-written WebAssembly SIMD loops that work in place on the wasm backend's heap (the module
 * imports the backend's own memory, so tensors are passed as byte addresses and nothing is
 * copied). They cover the training kernels' hot loops that XNNPACK does not: a convolution's
 * filter gradient when its GEMM would be long and thin, max-pooling gradients and column sums.
 * 128-bit SIMD runs them 4–8× faster than the same loops in JavaScript.
 */

/** Accumulator widths (in 4-float vectors) compiled for the filter gradient. */
const filterGradientWidths = [8, 4, 2, 1] as const;

export interface SimdKernels {
  /**
   * dW[a, b, c, o] = Σ_{n,i,j} x[n, i·sh + a − top, j·sw + b − left, c] · dy[n, i, j, o] for NHWC x
   * and dy, written to `out` ([fh, fw, C, OC], overwritten). OC must be a multiple of 4.
   */
  filterGradient(
    addresses: { x: number; dy: number; out: number },
    shape: {
      batch: number;
      inHeight: number;
      inWidth: number;
      inChannels: number;
      outHeight: number;
      outWidth: number;
      outChannels: number;
      filterHeight: number;
      filterWidth: number;
      strideHeight: number;
      strideWidth: number;
      top: number;
      left: number;
    },
  ): void;
  /**
   * Gradient of a 2×2, stride-2, unpadded max pooling for NHWC data with channels % 4 = 0: each
   * window's gradient goes to its first maximum (row-major; NaN never wins); the other three
   * pixels get 0. Rows and columns past the last window are left untouched.
   */
  maxPoolGrad2x2(
    addresses: { x: number; dy: number; dx: number },
    shape: { batch: number; inHeight: number; inWidth: number; channels: number; outHeight: number; outWidth: number },
  ): void;
  /** out[w] = Σ_r x[r, w] in float32, for `rows` rows of `width` floats. */
  sumRows(addresses: { x: number; out: number }, rows: number, width: number): void;
}

type Exports = Record<string, (...args: number[]) => void>;

function filterGradientFunction(vectors: number): FunctionBuilder {
  const f = new FunctionBuilder(`filter_gradient_${vectors}`, Array(16).fill("i32"));
  const [x, dy, out, batch, inH, inW, channels, outH, outW, outChannels, fh, fw, sh, sw, top, left] = Array.from(
    { length: 16 },
    (_, index) => f.param(index),
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const n = f.local("i32");
  const a = f.local("i32");
  const b = f.local("i32");
  const c = f.local("i32");
  const o = f.local("i32");
  const i = f.local("i32");
  const j = f.local("i32");
  const iLo = f.local("i32");
  const iHi = f.local("i32");
  const jLo = f.local("i32");
  const jHi = f.local("i32");
  const xImage = f.local("i32");
  const dyImage = f.local("i32");
  const xAt = f.local("i32");
  const dyAt = f.local("i32");
  const outAt = f.local("i32");
  const xStep = f.local("i32");
  const dyStep = f.local("i32");
  const t = f.local("i32");
  const accumulators = Array.from({ length: vectors }, () => f.local("v128"));
  const value = f.local("v128");

  // First valid output index for a filter tap: ceil(max(0, pad − tap) / stride); one past the
  // last: min(outSize, floor((inSize − 1 + pad − tap) / stride) + 1), 0 when that is negative.
  const lower = (pad: Local, tap: Local, stride: Local): Code =>
    divS(add(max(sub(get(pad), get(tap)), i32(0)), sub(get(stride), i32(1))), get(stride));
  const upper = (inSize: Local, pad: Local, tap: Local, stride: Local, outSize: Local): Code => [
    set(t, sub(add(sub(get(inSize), i32(1)), get(pad)), get(tap))),
    select(i32(0), min(add(divS(get(t), get(stride)), i32(1)), get(outSize)), ltS(get(t), i32(0))),
  ];
  const floats = (count: Code): Code => mul(count, i32(4));

  f.setBody(
    // out = 0
    forRange(
      t,
      i32(0),
      mul(mul(mul(get(fh), get(fw)), get(channels)), get(outChannels)),
      1,
      storeF32(add(get(out), floats(get(t))), f32(0)),
    ),
    set(xStep, floats(mul(get(sw), get(channels)))),
    set(dyStep, floats(get(outChannels))),
    forRange(
      n,
      i32(0),
      get(batch),
      1,
      set(xImage, add(get(x), floats(mul(mul(mul(get(n), get(inH)), get(inW)), get(channels))))),
      set(dyImage, add(get(dy), floats(mul(mul(mul(get(n), get(outH)), get(outW)), get(outChannels))))),
      forRange(
        a,
        i32(0),
        get(fh),
        1,
        set(iLo, lower(top, a, sh)),
        set(iHi, upper(inH, top, a, sh, outH)),
        forRange(
          b,
          i32(0),
          get(fw),
          1,
          set(jLo, lower(left, b, sw)),
          set(jHi, upper(inW, left, b, sw, outW)),
          forRange(
            c,
            i32(0),
            get(channels),
            1,
            forRange(
              o,
              i32(0),
              get(outChannels),
              4 * vectors,
              accumulators.map((acc) => set(acc, splatF32(f32(0)))),
              forRange(
                i,
                get(iLo),
                get(iHi),
                1,
                // x[n, i·sh + a − top, jLo·sw + b − left, c] and dy[n, i, jLo, o]
                set(
                  xAt,
                  add(
                    get(xImage),
                    floats(
                      add(
                        mul(
                          add(
                            mul(sub(add(mul(get(i), get(sh)), get(a)), get(top)), get(inW)),
                            sub(add(mul(get(jLo), get(sw)), get(b)), get(left)),
                          ),
                          get(channels),
                        ),
                        get(c),
                      ),
                    ),
                  ),
                ),
                set(
                  dyAt,
                  add(get(dyImage), floats(add(mul(add(mul(get(i), get(outW)), get(jLo)), get(outChannels)), get(o)))),
                ),
                forRange(
                  j,
                  get(jLo),
                  get(jHi),
                  1,
                  set(value, loadSplatF32(get(xAt))),
                  accumulators.map((acc, v) =>
                    set(acc, addF32x4(get(acc), mulF32x4(get(value), loadV128(get(dyAt), 16 * v)))),
                  ),
                  set(xAt, add(get(xAt), get(xStep))),
                  set(dyAt, add(get(dyAt), get(dyStep))),
                ),
              ),
              set(
                outAt,
                add(
                  get(out),
                  floats(
                    add(
                      mul(add(mul(add(mul(get(a), get(fw)), get(b)), get(channels)), get(c)), get(outChannels)),
                      get(o),
                    ),
                  ),
                ),
              ),
              accumulators.map((acc, v) =>
                storeV128(get(outAt), addF32x4(loadV128(get(outAt), 16 * v), get(acc)), 16 * v),
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return f;
}

/**
 * The filter gradient for inChannels % 4 = 0 and outChannels % 8 = 0, register-blocked: each
 * pass keeps a 4-channel × 8-output-channel tile of dW in 8 vector registers, so one load of x
 * (4 channels) and two of dy serve 64 multiply-adds.
 */
function filterGradientBlockedFunction(): FunctionBuilder {
  const f = new FunctionBuilder("filter_gradient_4x8", Array(16).fill("i32"));
  const [x, dy, out, batch, inH, inW, channels, outH, outW, outChannels, fh, fw, sh, sw, top, left] = Array.from(
    { length: 16 },
    (_, index) => f.param(index),
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const [n, a, b, c, o, i, j, iLo, iHi, jLo, jHi, xImage, dyImage, xAt, dyAt, outAt, xStep, dyStep, t] = Array.from(
    { length: 19 },
    () => f.local("i32"),
  ) as Local[] as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const accumulators = Array.from({ length: 4 }, () => [f.local("v128"), f.local("v128")] as const);
  const xv = f.local("v128");
  const d0 = f.local("v128");
  const d1 = f.local("v128");
  const s = f.local("v128");
  const lower = (pad: Local, tap: Local, stride: Local): Code =>
    divS(add(max(sub(get(pad), get(tap)), i32(0)), sub(get(stride), i32(1))), get(stride));
  const upper = (inSize: Local, pad: Local, tap: Local, stride: Local, outSize: Local): Code => [
    set(t, sub(add(sub(get(inSize), i32(1)), get(pad)), get(tap))),
    select(i32(0), min(add(divS(get(t), get(stride)), i32(1)), get(outSize)), ltS(get(t), i32(0))),
  ];
  const floats = (count: Code): Code => mul(count, i32(4));
  f.setBody(
    forRange(
      t,
      i32(0),
      mul(mul(mul(get(fh), get(fw)), get(channels)), get(outChannels)),
      1,
      storeF32(add(get(out), floats(get(t))), f32(0)),
    ),
    set(xStep, floats(mul(get(sw), get(channels)))),
    set(dyStep, floats(get(outChannels))),
    forRange(
      n,
      i32(0),
      get(batch),
      1,
      set(xImage, add(get(x), floats(mul(mul(mul(get(n), get(inH)), get(inW)), get(channels))))),
      set(dyImage, add(get(dy), floats(mul(mul(mul(get(n), get(outH)), get(outW)), get(outChannels))))),
      forRange(
        a,
        i32(0),
        get(fh),
        1,
        set(iLo, lower(top, a, sh)),
        set(iHi, upper(inH, top, a, sh, outH)),
        forRange(
          b,
          i32(0),
          get(fw),
          1,
          set(jLo, lower(left, b, sw)),
          set(jHi, upper(inW, left, b, sw, outW)),
          forRange(
            c,
            i32(0),
            get(channels),
            4,
            forRange(
              o,
              i32(0),
              get(outChannels),
              8,
              accumulators.flat().map((acc) => set(acc, splatF32(f32(0)))),
              forRange(
                i,
                get(iLo),
                get(iHi),
                1,
                set(
                  xAt,
                  add(
                    get(xImage),
                    floats(
                      add(
                        mul(
                          add(
                            mul(sub(add(mul(get(i), get(sh)), get(a)), get(top)), get(inW)),
                            sub(add(mul(get(jLo), get(sw)), get(b)), get(left)),
                          ),
                          get(channels),
                        ),
                        get(c),
                      ),
                    ),
                  ),
                ),
                set(
                  dyAt,
                  add(get(dyImage), floats(add(mul(add(mul(get(i), get(outW)), get(jLo)), get(outChannels)), get(o)))),
                ),
                forRange(
                  j,
                  get(jLo),
                  get(jHi),
                  1,
                  set(xv, loadV128(get(xAt))),
                  set(d0, loadV128(get(dyAt))),
                  set(d1, loadV128(get(dyAt), 16)),
                  accumulators.map(([acc0, acc1], lane) => [
                    set(s, broadcastLane(get(xv), lane)),
                    set(acc0, addF32x4(get(acc0), mulF32x4(get(s), get(d0)))),
                    set(acc1, addF32x4(get(acc1), mulF32x4(get(s), get(d1)))),
                  ]),
                  set(xAt, add(get(xAt), get(xStep))),
                  set(dyAt, add(get(dyAt), get(dyStep))),
                ),
              ),
              accumulators.map(([acc0, acc1], lane) => [
                set(
                  outAt,
                  add(
                    get(out),
                    floats(
                      add(
                        mul(
                          add(mul(add(mul(get(a), get(fw)), get(b)), get(channels)), add(get(c), i32(lane))),
                          get(outChannels),
                        ),
                        get(o),
                      ),
                    ),
                  ),
                ),
                storeV128(get(outAt), addF32x4(loadV128(get(outAt)), get(acc0))),
                storeV128(get(outAt), addF32x4(loadV128(get(outAt), 16), get(acc1)), 16),
              ]),
            ),
          ),
        ),
      ),
    ),
  );
  return f;
}

function maxPoolGrad2x2Function(): FunctionBuilder {
  const f = new FunctionBuilder("max_pool_grad_2x2", Array(9).fill("i32"));
  const [x, dy, dx, batch, inH, inW, channels, outH, outW] = Array.from({ length: 9 }, (_, index) =>
    f.param(index),
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const n = f.local("i32");
  const oh = f.local("i32");
  const ow = f.local("i32");
  const c = f.local("i32");
  const at = f.local("i32");
  const toDx = f.local("i32");
  const dyAt = f.local("i32");
  const pixel = f.local("i32");
  const row = f.local("i32");
  const [p0, p1, p2, p3, best, gradient, m0, m1, m2, m3] = Array.from({ length: 10 }, () => f.local("v128")) as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const floats = (count: Code): Code => mul(count, i32(4));
  f.setBody(
    set(toDx, sub(get(dx), get(x))),
    set(dyAt, get(dy)),
    set(pixel, floats(get(channels))),
    set(row, floats(mul(get(inW), get(channels)))),
    forRange(
      n,
      i32(0),
      get(batch),
      1,
      forRange(
        oh,
        i32(0),
        get(outH),
        1,
        forRange(
          ow,
          i32(0),
          get(outW),
          1,
          set(
            at,
            add(
              get(x),
              floats(
                mul(
                  add(mul(add(mul(get(n), get(inH)), mul(get(oh), i32(2))), get(inW)), mul(get(ow), i32(2))),
                  get(channels),
                ),
              ),
            ),
          ),
          forRange(
            c,
            i32(0),
            get(channels),
            4,
            set(p0, loadV128(get(at))),
            set(p1, loadV128(add(get(at), get(pixel)))),
            set(p2, loadV128(add(get(at), get(row)))),
            set(p3, loadV128(add(add(get(at), get(row)), get(pixel)))),
            set(gradient, loadV128(get(dyAt))),
            // A later window pixel wins only if strictly greater: the first maximum is kept.
            set(best, splatF32(f32(Number.NEGATIVE_INFINITY))),
            set(m0, gtF32x4(get(p0), get(best))),
            set(best, bitselect128(get(p0), get(best), get(m0))),
            set(m1, gtF32x4(get(p1), get(best))),
            set(best, bitselect128(get(p1), get(best), get(m1))),
            set(m2, gtF32x4(get(p2), get(best))),
            set(best, bitselect128(get(p2), get(best), get(m2))),
            set(m3, gtF32x4(get(p3), get(best))),
            // The winner is the last pixel whose comparison succeeded.
            set(m2, andNot128(get(m2), get(m3))),
            set(m1, andNot128(andNot128(get(m1), get(m3)), get(m2))),
            set(m0, andNot128(andNot128(andNot128(get(m0), get(m3)), get(m2)), get(m1))),
            storeV128(add(get(at), get(toDx)), and128(get(gradient), get(m0))),
            storeV128(add(add(get(at), get(toDx)), get(pixel)), and128(get(gradient), get(m1))),
            storeV128(add(add(get(at), get(toDx)), get(row)), and128(get(gradient), get(m2))),
            storeV128(add(add(add(get(at), get(toDx)), get(row)), get(pixel)), and128(get(gradient), get(m3))),
            set(at, add(get(at), i32(16))),
            set(dyAt, add(get(dyAt), i32(16))),
          ),
        ),
      ),
    ),
  );
  return f;
}

function sumRowsFunction(): FunctionBuilder {
  const f = new FunctionBuilder("sum_rows", ["i32", "i32", "i32", "i32"]);
  const [x, out, rows, width] = [f.param(0), f.param(1), f.param(2), f.param(3)];
  const r = f.local("i32");
  const w = f.local("i32");
  const rowAt = f.local("i32");
  const vectorEnd = f.local("i32");
  f.setBody(
    set(vectorEnd, sub(get(width), i32(3))),
    forRange(w, i32(0), get(width), 1, storeF32(add(get(out), mul(get(w), i32(4))), f32(0))),
    forRange(
      r,
      i32(0),
      get(rows),
      1,
      set(rowAt, add(get(x), mul(mul(get(r), get(width)), i32(4)))),
      set(w, i32(0)),
      // Whole vectors, then the remaining 0–3 columns one by one.
      block(
        loop(
          brIf(1, geS(get(w), get(vectorEnd))),
          storeV128(
            add(get(out), mul(get(w), i32(4))),
            addF32x4(loadV128(add(get(out), mul(get(w), i32(4)))), loadV128(add(get(rowAt), mul(get(w), i32(4))))),
          ),
          set(w, add(get(w), i32(4))),
          br(0),
        ),
      ),
      forRange(
        w,
        get(w),
        get(width),
        1,
        storeF32(
          add(get(out), mul(get(w), i32(4))),
          addF32(loadF32(add(get(out), mul(get(w), i32(4)))), loadF32(add(get(rowAt), mul(get(w), i32(4))))),
        ),
      ),
    ),
  );
  return f;
}

const cache = new WeakMap<WebAssembly.Memory, SimdKernels>();

/**
 * The kernels bound to a wasm backend's heap, compiled once per heap; `undefined` when the
 * backend's memory cannot be reached (a tfjs build that hides it), so callers keep their
 * JavaScript paths.
 */
export function simdKernelsFor(backend: unknown): SimdKernels | undefined {
  const module = (backend as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  const known = cache.get(memory);
  if (known) return known;
  const functions = [
    ...filterGradientWidths.map((vectors) => filterGradientFunction(vectors)),
    filterGradientBlockedFunction(),
    maxPoolGrad2x2Function(),
    sumRowsFunction(),
  ];
  const bytes = assembleModule(functions, { shared: memory.buffer instanceof SharedArrayBuffer });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const exports = instance.exports as Exports;
  const call = (name: string, ...args: number[]) => {
    const fn = exports[name];
    if (!fn) throw new Error(`simd kernel ${name} missing`);
    fn(...args);
  };
  const kernels: SimdKernels = {
    filterGradient({ x, dy, out }, s) {
      const vectorsPerRow = s.outChannels / 4;
      if (!Number.isInteger(vectorsPerRow)) throw new Error("filterGradient needs outChannels % 4 = 0");
      const vectors = filterGradientWidths.find((width) => vectorsPerRow % width === 0) ?? 1;
      const blocked = s.inChannels % 4 === 0 && s.outChannels % 8 === 0;
      call(
        blocked ? "filter_gradient_4x8" : `filter_gradient_${vectors}`,
        x,
        dy,
        out,
        s.batch,
        s.inHeight,
        s.inWidth,
        s.inChannels,
        s.outHeight,
        s.outWidth,
        s.outChannels,
        s.filterHeight,
        s.filterWidth,
        s.strideHeight,
        s.strideWidth,
        s.top,
        s.left,
      );
    },
    maxPoolGrad2x2({ x, dy, dx }, s) {
      if (s.channels % 4 !== 0) throw new Error("maxPoolGrad2x2 needs channels % 4 = 0");
      call("max_pool_grad_2x2", x, dy, dx, s.batch, s.inHeight, s.inWidth, s.channels, s.outHeight, s.outWidth);
    },
    sumRows({ x, out }, rows, width) {
      call("sum_rows", x, out, rows, width);
    },
  };
  cache.set(memory, kernels);
  return kernels;
}
