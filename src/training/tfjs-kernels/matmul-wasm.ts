import {
  add,
  addF32x4,
  type Code,
  FunctionBuilder,
  f32,
  forRange,
  get,
  i32,
  type Local,
  loadSplatF32,
  loadV128,
  mul,
  mulF32x4,
  set,
  shuffle32,
  splatF32,
  storeV128,
  sub,
} from "./wasm-assembler.js";

/**
 * Row-major float32 matrix products as wasm SIMD loops, for the dense layers of a training step
 * (XNNPACK repacks a freshly updated weight matrix on every call, ~5 ns per element) and batched
 * products (tfjs 4.22's wasm BatchMatMul is a scalar loop for batch > 1).
 */

const floats = (count: Code): Code => mul(count, i32(4));

function params(f: FunctionBuilder, count: number): Local[] {
  return Array.from({ length: count }, (_, index) => f.param(index));
}

/**
 * C[M, N] = A[M, K]·B[K, N], N % 8 = 0: each step of k adds an outer product of 4 (or, for the
 * last M % 4 rows, 1) values of A's column k and 8 of B's row k to a register tile.
 */
export function matmulFunction(): FunctionBuilder {
  const f = new FunctionBuilder("matmul_nn", Array(6).fill("i32"));
  const [a, b, c, rows, inner, columns] = params(f, 6) as [Local, Local, Local, Local, Local, Local];
  const [m, n, k, ap, bp, cp, rowBytes, bRowBytes, mainRows] = Array.from({ length: 9 }, () => f.local("i32")) as [
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
  const acc = Array.from({ length: 4 }, () => [f.local("v128"), f.local("v128")] as const);
  const [b0, b1, s] = [f.local("v128"), f.local("v128"), f.local("v128")];

  const tile = (height: number): Code =>
    forRange(
      n,
      i32(0),
      get(columns),
      8,
      acc.slice(0, height).map(([x, y]) => [set(x, splatF32(f32(0))), set(y, splatF32(f32(0)))]),
      set(ap, add(get(a), mul(get(m), get(rowBytes)))),
      set(bp, add(get(b), floats(get(n)))),
      forRange(
        k,
        i32(0),
        get(inner),
        1,
        set(b0, loadV128(get(bp))),
        set(b1, loadV128(get(bp), 16)),
        acc
          .slice(0, height)
          .map(([x, y], r) => [
            set(s, loadSplatF32(add(get(ap), mul(get(rowBytes), i32(r))))),
            set(x, addF32x4(get(x), mulF32x4(get(s), get(b0)))),
            set(y, addF32x4(get(y), mulF32x4(get(s), get(b1)))),
          ]),
        set(ap, add(get(ap), i32(4))),
        set(bp, add(get(bp), get(bRowBytes))),
      ),
      set(cp, add(get(c), floats(add(mul(get(m), get(columns)), get(n))))),
      acc
        .slice(0, height)
        .map(([x, y]) => [
          storeV128(get(cp), get(x)),
          storeV128(get(cp), get(y), 16),
          set(cp, add(get(cp), get(bRowBytes))),
        ]),
    );

  f.setBody(
    set(rowBytes, floats(get(inner))),
    set(bRowBytes, floats(get(columns))),
    set(mainRows, sub(get(rows), i32(3))),
    // Tiles of 4 rows while they fit, then single rows.
    forRange(m, i32(0), get(mainRows), 4, tile(4)),
    forRange(m, get(m), get(rows), 1, tile(1)),
  );
  return f;
}

/**
 * C[M, N] = A[M, K]·B[N, K]ᵀ, K % 4 = 0, N % 4 = 0: dot products along the contiguous k axis,
 * a 2 × 4 tile of them (the last odd row: 1 × 4) as partial-sum vectors reduced at the end.
 */
export function matmulTransposedFunction(): FunctionBuilder {
  const f = new FunctionBuilder("matmul_nt", Array(6).fill("i32"));
  const [a, b, c, rows, inner, columns] = params(f, 6) as [Local, Local, Local, Local, Local, Local];
  const [m, n, k, a0p, a1p, bp, cp, rowBytes, mainRows] = Array.from({ length: 9 }, () => f.local("i32")) as [
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
  const acc = Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => f.local("v128")));
  const [x0, x1, y] = [f.local("v128"), f.local("v128"), f.local("v128")];

  /** [Σ v0, Σ v1, Σ v2, Σ v3] */
  const reduce4 = (v: Local[]): Code => {
    const [v0, v1, v2, v3] = v.map((local) => get(local)) as [Code, Code, Code, Code];
    const t0 = addF32x4(shuffle32(v0, v1, [0, 4, 1, 5]), shuffle32(v0, v1, [2, 6, 3, 7]));
    const t1 = addF32x4(shuffle32(v2, v3, [0, 4, 1, 5]), shuffle32(v2, v3, [2, 6, 3, 7]));
    // t0 = [v0₀+v0₂, v1₀+v1₂, v0₁+v0₃, v1₁+v1₃], t1 likewise for v2, v3.
    return addF32x4(shuffle32(t0, t1, [0, 1, 4, 5]), shuffle32(t0, t1, [2, 3, 6, 7]));
  };

  const tile = (height: number): Code =>
    forRange(
      n,
      i32(0),
      get(columns),
      4,
      acc.slice(0, height).map((row) => row.map((v) => set(v, splatF32(f32(0))))),
      set(a0p, add(get(a), mul(get(m), get(rowBytes)))),
      set(a1p, add(get(a0p), get(rowBytes))),
      set(bp, add(get(b), mul(get(n), get(rowBytes)))),
      forRange(
        k,
        i32(0),
        get(inner),
        4,
        set(x0, loadV128(get(a0p))),
        height === 2 ? set(x1, loadV128(get(a1p))) : [],
        [0, 1, 2, 3].map((j) => [
          set(y, loadV128(add(get(bp), mul(get(rowBytes), i32(j))))),
          acc.slice(0, height).map((row, r) => {
            const v = row[j] as Local;
            return set(v, addF32x4(get(v), mulF32x4(get(r === 0 ? x0 : x1), get(y))));
          }),
        ]),
        set(a0p, add(get(a0p), i32(16))),
        set(a1p, add(get(a1p), i32(16))),
        set(bp, add(get(bp), i32(16))),
      ),
      set(cp, add(get(c), floats(add(mul(get(m), get(columns)), get(n))))),
      storeV128(get(cp), reduce4(acc[0] as Local[])),
      height === 2 ? storeV128(add(get(cp), floats(get(columns))), reduce4(acc[1] as Local[])) : [],
    );

  f.setBody(
    set(rowBytes, floats(get(inner))),
    set(mainRows, sub(get(rows), i32(1))),
    forRange(m, i32(0), get(mainRows), 2, tile(2)),
    forRange(m, get(m), get(rows), 1, tile(1)),
  );
  return f;
}
