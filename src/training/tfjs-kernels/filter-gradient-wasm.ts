import {
  add,
  addF32x4,
  broadcastLane,
  type Code,
  divS,
  FunctionBuilder,
  f32,
  forRange,
  get,
  i32,
  type Local,
  loadSplatF32,
  loadV128,
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
 * The direct filter gradient of a convolution as wasm SIMD loops over NHWC x and dy on the heap:
 *   dW[a, b, c, o] = Σ_{n,i,j} x[n, i·sh + a − top, j·sw + b − left, c] · dy[n, i, j, o]
 * Parameters (i32): x, dy, out (byte addresses; out [fh, fw, C, OC] is overwritten), N, H, W, C,
 * OH, OW, OC, fh, fw, sh, sw, top, left. OC % 4 = 0.
 */

/** Accumulator widths (in 4-float vectors) compiled for the unblocked variant. */
export const filterGradientWidths = [8, 4, 2, 1] as const;

/**
 * One input channel at a time against `vectors`·4 output channels held in registers: the variant
 * for few input channels (a first layer: C = 1 or 3).
 */
export function filterGradientFunction(vectors: number): FunctionBuilder {
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
export function filterGradientBlockedFunction(): FunctionBuilder {
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
