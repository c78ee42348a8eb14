import {
  add,
  addF32,
  addF32x4,
  and128,
  andNot128,
  bitselect128,
  block,
  br,
  brIf,
  type Code,
  FunctionBuilder,
  f32,
  forRange,
  geS,
  get,
  gtF32x4,
  i32,
  type Local,
  loadF32,
  loadV128,
  loop,
  mul,
  set,
  splatF32,
  storeF32,
  storeV128,
  sub,
} from "./wasm-assembler.js";

/** Memory-bound training loops as wasm SIMD: the 2×2 max-pooling gradient and column sums. */

/**
 * Gradient of a 2×2, stride-2, unpadded max pooling, NHWC, channels % 4 = 0. Parameters: x, dy,
 * dx (byte addresses), N, H, W, C, OH, OW. Each window's gradient goes to its first maximum
 * (row-major; NaN never wins), the other three pixels get 0; rows and columns past the last
 * window are left untouched.
 */
export function maxPoolGrad2x2Function(): FunctionBuilder {
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

/** out[w] = Σ_r x[r, w] in float32. Parameters: x, out (byte addresses), rows, width. */
export function sumRowsFunction(): FunctionBuilder {
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
