import {
  add,
  addF32x4,
  and32,
  broadcastLane,
  type Code,
  divS,
  FunctionBuilder,
  f32,
  forRange,
  get,
  i32,
  ifElse,
  ifThen,
  type Local,
  loadSplatF32,
  loadV128,
  ltS,
  min,
  mul,
  mulF32x4,
  remS,
  set,
  splatF32,
  storeV128,
  sub,
  subF32x4,
} from "./wasm-assembler.js";

/** Locals and parameters shared by the forward and filter-gradient functions. */
interface TileContext {
  xp: Local;
  scratch: Local;
  hp: Local;
  wp: Local;
  channels: Local;
  tilesH: Local;
  tilesW: Local;
  t0: Local;
  count: Local;
  countPadded: Local;
  tt: Local;
  t: Local;
  n: Local;
  ty: Local;
  tx: Local;
  c: Local;
  k: Local;
  base: Local;
  at: Local;
  vk: Local;
  vStride: Local;
  pixel: Local;
  row: Local;
  d: Local[];
  fr: Local[][];
}

const floats = (count: Code): Code => mul(count, i32(4));

function locals(f: FunctionBuilder, type: "i32" | "v128", count: number): Local[] {
  return Array.from({ length: count }, () => f.local(type));
}

function tileContext(
  f: FunctionBuilder,
  params: Pick<TileContext, "xp" | "scratch" | "hp" | "wp" | "channels" | "tilesH" | "tilesW">,
): TileContext {
  const [t0, count, countPadded, tt, t, n, ty, tx, c, k, base, at, vk, vStride, pixel, row] = locals(
    f,
    "i32",
    16,
  ) as Local[] & { length: 16 };
  return {
    ...params,
    t0: t0 as Local,
    count: count as Local,
    countPadded: countPadded as Local,
    tt: tt as Local,
    t: t as Local,
    n: n as Local,
    ty: ty as Local,
    tx: tx as Local,
    c: c as Local,
    k: k as Local,
    base: base as Local,
    at: at as Local,
    vk: vk as Local,
    vStride: vStride as Local,
    pixel: pixel as Local,
    row: row as Local,
    d: locals(f, "v128", 4),
    fr: Array.from({ length: 4 }, () => locals(f, "v128", 4)),
  };
}

/** Tile index t → (n, ty, tx). */
function decompose(x: TileContext): Code {
  return [
    set(x.tx, remS(get(x.t), get(x.tilesW))),
    set(x.ty, divS(get(x.t), get(x.tilesW))),
    set(x.n, divS(get(x.ty), get(x.tilesH))),
    set(x.ty, remS(get(x.ty), get(x.tilesH))),
  ];
}

/** Chunk set-up: count = tiles in this chunk, countPadded = count rounded up to a multiple of 4. */
function chunkBounds(x: TileContext, tiles: Local, chunk: Local): Code {
  return [
    set(x.count, min(get(chunk), sub(get(tiles), get(x.t0)))),
    set(x.countPadded, and32(add(get(x.count), i32(3)), i32(-4))),
  ];
}

/**
 * V_k[tt, c] = (Bᵀ·d·B)[i][j], k = 4i + j, for each tile of the chunk and each channel, with
 * Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]] and d the tile's 4×4 input window; planes
 * of chunk·C floats at `scratch`. Rows past the chunk's last tile are zero.
 */
function inputTransform(x: TileContext): Code {
  const { fr, d } = x;
  return forRange(
    x.tt,
    i32(0),
    get(x.countPadded),
    1,
    ifElse(
      ltS(get(x.tt), get(x.count)),
      [
        set(x.t, add(get(x.t0), get(x.tt))),
        decompose(x),
        set(
          x.base,
          add(
            get(x.xp),
            floats(
              mul(
                add(mul(add(mul(get(x.n), get(x.hp)), mul(get(x.ty), i32(2))), get(x.wp)), mul(get(x.tx), i32(2))),
                get(x.channels),
              ),
            ),
          ),
        ),
        set(x.at, add(get(x.scratch), floats(mul(get(x.tt), get(x.channels))))),
        forRange(
          x.c,
          i32(0),
          get(x.channels),
          4,
          // f[r] = Bᵀ·d[r, :] along each input row r …
          fr.map((fRow, r) => [
            d.map((value, column) =>
              set(value, loadV128(add(add(get(x.base), mul(get(x.row), i32(r))), mul(get(x.pixel), i32(column))))),
            ),
            set(fRow[0] as Local, subF32x4(get(d[0] as Local), get(d[2] as Local))),
            set(fRow[1] as Local, addF32x4(get(d[1] as Local), get(d[2] as Local))),
            set(fRow[2] as Local, subF32x4(get(d[2] as Local), get(d[1] as Local))),
            set(fRow[3] as Local, subF32x4(get(d[1] as Local), get(d[3] as Local))),
          ]),
          // … then V[:, j] = Bᵀ·f[:, j]; V_k with k = 4i + j goes to scratch plane k.
          set(x.vk, get(x.at)),
          [0, 1, 2, 3].map((rowOut) =>
            [0, 1, 2, 3].map((column) => {
              const [f0, f1, f2, f3] = fr.map((fRow) => get(fRow[column] as Local)) as [Code, Code, Code, Code];
              const value = [subF32x4(f0, f2), addF32x4(f1, f2), subF32x4(f2, f1), subF32x4(f1, f3)][rowOut] as Code;
              return [storeV128(get(x.vk), value), set(x.vk, add(get(x.vk), get(x.vStride)))];
            }),
          ),
          set(x.base, add(get(x.base), i32(16))),
          set(x.at, add(get(x.at), i32(16))),
        ),
      ],
      [zeroRows(x.tt, x.scratch, x.vStride, x.channels, x.k, x.c)],
    ),
  );
}

/** Row `tt` of all 16 planes (plane stride `planeStride` bytes, rows of `width` floats) = 0. */
function zeroRows(tt: Local, planes: Local, planeStride: Local, width: Local, k: Local, c: Local): Code {
  return forRange(
    k,
    i32(0),
    i32(16),
    1,
    forRange(
      c,
      i32(0),
      get(width),
      4,
      storeV128(
        add(add(get(planes), mul(get(k), get(planeStride))), floats(add(mul(get(tt), get(width)), get(c)))),
        splatF32(f32(0)),
      ),
    ),
  );
}

/**
 * A 3×3, stride-1 convolution by Winograd's F(2×2, 3×3) (Lavin & Gray 2015), as one wasm SIMD
 * function. Each 2×2 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A of its 4×4 input tile d, so the
 * channel mixing becomes 16 independent [tiles × C]·[C × OC] products with 2.25× fewer
 * multiplications than the direct convolution. Tiles are processed in chunks whose transformed
 * inputs and products stay in cache (the scratch buffer): input transform → 16 register-blocked
 * GEMMs → output transform, then the next chunk.
 *
 * Parameters (byte addresses, then sizes): xp = the input zero-padded so every tile is inside
 * ([N, Hp, Wp, C]); u = the transformed filter [16][C][OC]; out [N, OH, OW, OC]; scratch holding
 * 16·chunk·(C + OC) floats; N, Hp, Wp, C, OH, OW, OC, tiles high and wide per image, tiles per
 * chunk; then the range of tiles (numbered over the whole batch) this call computes, so threads
 * can share the work. C % 4 = 0, OC % 8 = 0, chunk % 4 = 0.
 */
export function winogradConv3x3Function(): FunctionBuilder {
  const f = new FunctionBuilder("winograd_conv3x3", Array(16).fill("i32"));
  const [xp, u, out, scratch, , hp, wp, channels, outH, outW, outChannels, tilesH, tilesW, chunk, tileBegin, tileEnd] =
    Array.from({ length: 16 }, (_, index) => f.param(index)) as Local[] & { length: 16 };
  const x = tileContext(f, {
    xp: xp as Local,
    scratch: scratch as Local,
    hp: hp as Local,
    wp: wp as Local,
    channels: channels as Local,
    tilesH: tilesH as Local,
    tilesW: tilesW as Local,
  });
  const [tiles, o, mk, uk, mStride, v0, v1, v2, v3, up, hasRight, hasBelow, outPixel, outRow, mBase] = locals(
    f,
    "i32",
    15,
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const acc = Array.from({ length: 4 }, () => locals(f, "v128", 2) as [Local, Local]);
  const [u0, u1, s] = locals(f, "v128", 3) as [Local, Local, Local];
  const g = Array.from({ length: 4 }, () => locals(f, "v128", 2) as [Local, Local]);
  const C = channels as Local;
  const OC = outChannels as Local;

  // M_k[tt, o] = Σ_c V_k[tt, c]·U_k[c, o], 4 tiles × 8 output channels per register tile.
  const gemm: Code = forRange(
    x.k,
    i32(0),
    i32(16),
    1,
    set(x.vk, add(get(x.scratch), mul(get(x.k), get(x.vStride)))),
    set(mk, add(get(mBase), mul(get(x.k), get(mStride)))),
    set(uk, add(get(u as Local), floats(mul(mul(get(x.k), get(C)), get(OC))))),
    forRange(
      x.tt,
      i32(0),
      get(x.countPadded),
      4,
      forRange(
        o,
        i32(0),
        get(OC),
        8,
        acc.flat().map((a) => set(a, splatF32(f32(0)))),
        set(v0, add(get(x.vk), floats(mul(get(x.tt), get(C))))),
        set(v1, add(get(v0), get(x.pixel))),
        set(v2, add(get(v1), get(x.pixel))),
        set(v3, add(get(v2), get(x.pixel))),
        set(up, add(get(uk), floats(get(o)))),
        forRange(
          x.c,
          i32(0),
          get(C),
          1,
          set(u0, loadV128(get(up))),
          set(u1, loadV128(get(up), 16)),
          [v0, v1, v2, v3].map((pointer, r) => {
            const [a0, a1] = acc[r] as [Local, Local];
            return [
              set(s, loadSplatF32(get(pointer))),
              set(a0, addF32x4(get(a0), mulF32x4(get(s), get(u0)))),
              set(a1, addF32x4(get(a1), mulF32x4(get(s), get(u1)))),
              set(pointer, add(get(pointer), i32(4))),
            ];
          }),
          set(up, add(get(up), floats(get(OC)))),
        ),
        set(x.at, add(get(mk), floats(add(mul(get(x.tt), get(OC)), get(o))))),
        acc.map(([a0, a1]) => [
          storeV128(get(x.at), get(a0)),
          storeV128(get(x.at), get(a1), 16),
          set(x.at, add(get(x.at), floats(get(OC)))),
        ]),
      ),
    ),
  );

  // Y = Aᵀ·M·A for each tile, Aᵀ = [[1,1,1,0],[0,1,−1,−1]]; edge tiles of odd-sized outputs drop
  // their second row/column.
  const m = (index: number): Local => (x.fr[index >> 2] as Local[])[index & 3] as Local;
  const outputTransform: Code = forRange(
    x.tt,
    i32(0),
    get(x.count),
    1,
    set(x.t, add(get(x.t0), get(x.tt))),
    decompose(x),
    set(hasRight, ltS(add(mul(get(x.tx), i32(2)), i32(1)), get(outW as Local))),
    set(hasBelow, ltS(add(mul(get(x.ty), i32(2)), i32(1)), get(outH as Local))),
    set(
      x.base,
      add(
        get(out as Local),
        floats(
          mul(
            add(
              mul(add(mul(get(x.n), get(outH as Local)), mul(get(x.ty), i32(2))), get(outW as Local)),
              mul(get(x.tx), i32(2)),
            ),
            get(OC),
          ),
        ),
      ),
    ),
    set(x.at, add(get(mBase), floats(mul(get(x.tt), get(OC))))),
    forRange(
      o,
      i32(0),
      get(OC),
      4,
      set(x.vk, get(x.at)),
      Array.from({ length: 16 }, (_, index) => [
        set(m(index), loadV128(get(x.vk))),
        set(x.vk, add(get(x.vk), get(mStride))),
      ]),
      // g[r] = M[r, :]·A
      g.map(([g0, g1], r) => [
        set(g0, addF32x4(addF32x4(get(m(4 * r)), get(m(4 * r + 1))), get(m(4 * r + 2)))),
        set(g1, subF32x4(subF32x4(get(m(4 * r + 1)), get(m(4 * r + 2))), get(m(4 * r + 3)))),
      ]),
      [0, 1].map((column) => {
        const [r0, r1, r2, r3] = g.map((pair) => get(pair[column] as Local)) as [Code, Code, Code, Code];
        const top = addF32x4(addF32x4(r0, r1), r2);
        const bottom = subF32x4(subF32x4(r1, r2), r3);
        const address = column === 0 ? get(x.base) : add(get(x.base), get(outPixel));
        const below = add(address, get(outRow));
        return column === 0
          ? [storeV128(address, top), ifThen(get(hasBelow), storeV128(below, bottom))]
          : ifThen(get(hasRight), storeV128(address, top), ifThen(get(hasBelow), storeV128(below, bottom)));
      }),
      set(x.base, add(get(x.base), i32(16))),
      set(x.at, add(get(x.at), i32(16))),
    ),
  );

  f.setBody(
    set(tiles, get(tileEnd as Local)),
    set(x.pixel, floats(get(C))),
    set(x.row, floats(mul(get(x.wp), get(C)))),
    set(outPixel, floats(get(OC))),
    set(outRow, floats(mul(get(outW as Local), get(OC)))),
    set(x.vStride, floats(mul(get(chunk as Local), get(C)))),
    set(mStride, floats(mul(get(chunk as Local), get(OC)))),
    set(mBase, add(get(x.scratch), mul(get(x.vStride), i32(16)))),
    forRange(
      x.t0,
      get(tileBegin as Local),
      get(tiles),
      get(chunk as Local),
      chunkBounds(x, tiles, chunk as Local),
      inputTransform(x),
      gemm,
      outputTransform,
    ),
  );
  return f;
}

/**
 * The filter gradient of a 3×3 stride-1 convolution by Winograd's F(3×3, 2×2), the transpose of
 * the forward algorithm: per 2×2 tile e of dy and its 4×4 input window d,
 *   dW += Gᵀ[(A·e·Aᵀ) ⊙ (Bᵀ·d·B)]G,  A = [[1,0],[1,1],[1,−1],[0,−1]] (= Aᵀ of F(2×2, 3×3) transposed).
 * The sum over tiles is taken before the outer Gᵀ·…·G, so it is 16 products
 * Ŵ_k[C × OC] += V_kᵀ·E_k over all tiles (register-blocked 4 channels × 8 output channels);
 * the caller applies Gᵀ·Ŵ·G (3×3 from 4×4) to the result.
 *
 * Parameters: xp (as for the forward function), dy [N, OH, OW, OC], what = Ŵ [16][C][OC]
 * (overwritten with the sum over this call's tiles), scratch holding 16·chunk·(C + OC) floats,
 * then sizes and the tile range as for the forward function. C % 4 = 0, OC % 8 = 0, chunk % 4 = 0.
 */
export function winogradFilterGradient3x3Function(): FunctionBuilder {
  const f = new FunctionBuilder("winograd_filter_gradient3x3", Array(16).fill("i32"));
  const [
    xp,
    dy,
    what,
    scratch,
    ,
    hp,
    wp,
    channels,
    outH,
    outW,
    outChannels,
    tilesH,
    tilesW,
    chunk,
    tileBegin,
    tileEnd,
  ] = Array.from({ length: 16 }, (_, index) => f.param(index)) as Local[] & { length: 16 };
  const x = tileContext(f, {
    xp: xp as Local,
    scratch: scratch as Local,
    hp: hp as Local,
    wp: wp as Local,
    channels: channels as Local,
    tilesH: tilesH as Local,
    tilesW: tilesW as Local,
  });
  const [tiles, o, ek, wk, eStride, eBase, dyPixel, dyRow, vp, ep, wAt, hasRight, hasBelow, q] = locals(
    f,
    "i32",
    14,
  ) as [Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const acc = Array.from({ length: 4 }, () => locals(f, "v128", 2) as [Local, Local]);
  const [xv, e0, e1, s] = locals(f, "v128", 4) as [Local, Local, Local, Local];
  const C = channels as Local;
  const OC = outChannels as Local;
  const zero = splatF32(f32(0));

  // E_k[tt, o] = (A·e·Aᵀ)[i][j], k = 4i + j, from the tile's 2×2 dy window (zero outside dy).
  const e = x.d; // e[2p + q]: dy at (2ty + p, 2tx + q)
  const r = x.fr; // r[p][j] = (A·e[p, :])[j]
  const dyTransform: Code = forRange(
    x.tt,
    i32(0),
    get(x.countPadded),
    1,
    ifElse(
      ltS(get(x.tt), get(x.count)),
      [
        set(x.t, add(get(x.t0), get(x.tt))),
        decompose(x),
        set(hasRight, ltS(add(mul(get(x.tx), i32(2)), i32(1)), get(outW as Local))),
        set(hasBelow, ltS(add(mul(get(x.ty), i32(2)), i32(1)), get(outH as Local))),
        set(
          x.base,
          add(
            get(dy as Local),
            floats(
              mul(
                add(
                  mul(add(mul(get(x.n), get(outH as Local)), mul(get(x.ty), i32(2))), get(outW as Local)),
                  mul(get(x.tx), i32(2)),
                ),
                get(OC),
              ),
            ),
          ),
        ),
        set(x.at, add(get(eBase), floats(mul(get(x.tt), get(OC))))),
        forRange(
          o,
          i32(0),
          get(OC),
          4,
          set(e[0] as Local, loadV128(get(x.base))),
          set(e[1] as Local, zero),
          set(e[2] as Local, zero),
          set(e[3] as Local, zero),
          ifThen(get(hasRight), set(e[1] as Local, loadV128(add(get(x.base), get(dyPixel))))),
          ifThen(
            get(hasBelow),
            set(e[2] as Local, loadV128(add(get(x.base), get(dyRow)))),
            ifThen(get(hasRight), set(e[3] as Local, loadV128(add(add(get(x.base), get(dyRow)), get(dyPixel))))),
          ),
          [0, 1].map((p) => {
            const [a, b] = [get(e[2 * p] as Local), get(e[2 * p + 1] as Local)];
            const row = r[p] as Local[];
            return [
              set(row[0] as Local, a),
              set(row[1] as Local, addF32x4(a, b)),
              set(row[2] as Local, subF32x4(a, b)),
              set(row[3] as Local, subF32x4(zero, b)),
            ];
          }),
          set(x.vk, get(x.at)),
          [0, 1, 2, 3].map((rowOut) =>
            [0, 1, 2, 3].map((column) => {
              const a = get((r[0] as Local[])[column] as Local);
              const b = get((r[1] as Local[])[column] as Local);
              const value = [a, addF32x4(a, b), subF32x4(a, b), subF32x4(zero, b)][rowOut] as Code;
              return [storeV128(get(x.vk), value), set(x.vk, add(get(x.vk), get(eStride)))];
            }),
          ),
          set(x.base, add(get(x.base), i32(16))),
          set(x.at, add(get(x.at), i32(16))),
        ),
      ],
      [zeroRows(x.tt, eBase, eStride, OC, x.k, o)],
    ),
  );

  // Ŵ_k[c, o] += Σ_tt V_k[tt, c]·E_k[tt, o]: 4 channels (one v128 of V_k's row) × 8 outputs.
  const accumulate: Code = forRange(
    x.k,
    i32(0),
    i32(16),
    1,
    set(x.vk, add(get(x.scratch), mul(get(x.k), get(x.vStride)))),
    set(ek, add(get(eBase), mul(get(x.k), get(eStride)))),
    set(wk, add(get(what as Local), floats(mul(mul(get(x.k), get(C)), get(OC))))),
    forRange(
      x.c,
      i32(0),
      get(C),
      4,
      forRange(
        o,
        i32(0),
        get(OC),
        8,
        acc.flat().map((a) => set(a, zero)),
        set(vp, add(get(x.vk), floats(get(x.c)))),
        set(ep, add(get(ek), floats(get(o)))),
        forRange(
          q,
          i32(0),
          get(x.countPadded),
          1,
          set(xv, loadV128(get(vp))),
          set(e0, loadV128(get(ep))),
          set(e1, loadV128(get(ep), 16)),
          acc.map(([a0, a1], lane) => [
            set(s, broadcastLane(get(xv), lane)),
            set(a0, addF32x4(get(a0), mulF32x4(get(s), get(e0)))),
            set(a1, addF32x4(get(a1), mulF32x4(get(s), get(e1)))),
          ]),
          set(vp, add(get(vp), get(x.pixel))),
          set(ep, add(get(ep), get(dyPixel))),
        ),
        set(wAt, add(get(wk), floats(add(mul(get(x.c), get(OC)), get(o))))),
        acc.map(([a0, a1]) => [
          storeV128(get(wAt), addF32x4(loadV128(get(wAt)), get(a0))),
          storeV128(get(wAt), addF32x4(loadV128(get(wAt), 16), get(a1)), 16),
          set(wAt, add(get(wAt), get(dyPixel))),
        ]),
      ),
    ),
  );

  f.setBody(
    forRange(
      q,
      i32(0),
      mul(mul(i32(16), get(C)), get(OC)),
      4,
      storeV128(add(get(what as Local), floats(get(q))), zero),
    ),
    set(tiles, get(tileEnd as Local)),
    set(x.pixel, floats(get(C))),
    set(x.row, floats(mul(get(x.wp), get(C)))),
    set(dyPixel, floats(get(OC))),
    set(dyRow, floats(mul(get(outW as Local), get(OC)))),
    set(x.vStride, floats(mul(get(chunk as Local), get(C)))),
    set(eStride, floats(mul(get(chunk as Local), get(OC)))),
    set(eBase, add(get(x.scratch), mul(get(x.vStride), i32(16)))),
    forRange(
      x.t0,
      get(tileBegin as Local),
      get(tiles),
      get(chunk as Local),
      chunkBounds(x, tiles, chunk as Local),
      inputTransform(x),
      dyTransform,
      accumulate,
    ),
  );
  return f;
}
