/**
 * A minimal WebAssembly assembler: just enough to write a few SIMD loops that run on the wasm
 * backend's own heap (see simd-kernels.ts). No toolchain can be installed here, and tfjs 4.22's
 * wasm kernels for data movement and reductions are scalar loops, so the hot loops of the
 * training kernels are emitted as bytes at start-up from the readable builders below.
 *
 * Code is written as nested arrays of bytes: an expression pushes its value, a statement leaves
 * the stack as it was. Only i32 addressing (wasm32) and the opcodes the kernels use are covered.
 */

export type Code = readonly (number | Code)[];
export type ValueType = "i32" | "f32" | "f64" | "v128";

const valueTypeByte: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

export function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

export function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function flatten(code: Code, into: number[] = []): number[] {
  for (const part of code) {
    if (typeof part === "number") into.push(part);
    else flatten(part, into);
  }
  return into;
}

function vector(items: readonly number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function utf8(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/** A local variable (parameters are locals too). */
export interface Local {
  readonly index: number;
  readonly type: ValueType;
}

// ---- instructions -------------------------------------------------------------------------

const simd = (opcode: number): number[] => [0xfd, ...unsignedLeb(opcode)];
/** Memory immediate: alignment as a power of two, then a constant byte offset. */
const memarg = (alignLog2: number, offset: number): number[] => [...unsignedLeb(alignLog2), ...unsignedLeb(offset)];

export const get = (local: Local): Code => [0x20, ...unsignedLeb(local.index)];
export const set = (local: Local, value: Code): Code => [value, 0x21, ...unsignedLeb(local.index)];
export const i32 = (value: number): Code => [0x41, ...signedLeb(value)];
export const f32 = (value: number): Code => {
  const bytes = new Uint8Array(new Float32Array([value]).buffer);
  return [0x43, ...bytes];
};

const binary =
  (opcode: number) =>
  (a: Code, b: Code): Code => [a, b, opcode];
const binarySimd =
  (opcode: number) =>
  (a: Code, b: Code): Code => [a, b, simd(opcode)];
const unarySimd =
  (opcode: number) =>
  (a: Code): Code => [a, simd(opcode)];

export const add = binary(0x6a);
export const sub = binary(0x6b);
export const mul = binary(0x6c);
export const divS = binary(0x6d);
export const remS = binary(0x6f);
export const and32 = binary(0x71);
export const shl = binary(0x74);
export const ltS = binary(0x48);
export const geS = binary(0x4e);
export const gtS = binary(0x4a);
export const leS = binary(0x4c);
export const eqz = (a: Code): Code => [a, 0x45];
export const select = (whenTrue: Code, whenFalse: Code, condition: Code): Code => [
  whenTrue,
  whenFalse,
  condition,
  0x1b,
];
export const max = (a: Code, b: Code): Code => select(a, b, gtS(a, b));
export const min = (a: Code, b: Code): Code => select(a, b, ltS(a, b));

export const loadF32 = (address: Code, offset = 0): Code => [address, 0x2a, memarg(2, offset)];
export const storeF32 = (address: Code, value: Code, offset = 0): Code => [address, value, 0x38, memarg(2, offset)];
export const loadF64 = (address: Code, offset = 0): Code => [address, 0x2b, memarg(3, offset)];
export const storeF64 = (address: Code, value: Code, offset = 0): Code => [address, value, 0x39, memarg(3, offset)];
export const addF32 = binary(0x92);
export const addF64 = binary(0xa0);
export const promoteF32 = (a: Code): Code => [a, 0xbb];

/** Loads are 4-byte aligned: tfjs tensors are float32 arrays, not necessarily 16-byte aligned. */
export const loadV128 = (address: Code, offset = 0): Code => [address, simd(0x00), memarg(2, offset)];
export const storeV128 = (address: Code, value: Code, offset = 0): Code => [
  address,
  value,
  simd(0x0b),
  memarg(2, offset),
];
export const loadSplatF32 = (address: Code, offset = 0): Code => [address, simd(0x09), memarg(2, offset)];
export const splatF32 = unarySimd(0x13);
export const addF32x4 = binarySimd(0xe4);
export const subF32x4 = binarySimd(0xe5);
export const mulF32x4 = binarySimd(0xe6);
export const gtF32x4 = binarySimd(0x44);
export const addF64x2 = binarySimd(0xf0);
export const promoteLowF32x4 = unarySimd(0x5f);
export const and128 = binarySimd(0x4e);
/** a & ~b */
export const andNot128 = binarySimd(0x4f);
export const or128 = binarySimd(0x50);
export const bitselect128 = (whenSet: Code, whenClear: Code, mask: Code): Code => [
  whenSet,
  whenClear,
  mask,
  simd(0x52),
];
/** Lane `lane` of a f32x4 copied to all four lanes. */
export const broadcastLane = (a: Code, lane: number): Code => [
  a,
  a,
  simd(0x0d),
  Array.from({ length: 16 }, (_, byte) => lane * 4 + (byte % 4)),
];
/** Four 32-bit lanes picked from a (lanes 0–3) and b (lanes 4–7). */
export const shuffle32 = (a: Code, b: Code, lanes: readonly [number, number, number, number]): Code => [
  a,
  b,
  simd(0x0d),
  lanes.flatMap((lane) => [lane * 4, lane * 4 + 1, lane * 4 + 2, lane * 4 + 3]),
];
/** The high two lanes of a f32x4 moved to the low two (for promoting them to f64x2). */
export const highHalf = (a: Code): Code => [
  a,
  a,
  simd(0x0d),
  [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15],
];

// ---- control -----------------------------------------------------------------------------

export const block = (...body: Code[]): Code => [0x02, 0x40, body, 0x0b];
export const loop = (...body: Code[]): Code => [0x03, 0x40, body, 0x0b];
export const brIf = (depth: number, condition: Code): Code => [condition, 0x0d, ...unsignedLeb(depth)];
export const br = (depth: number): Code => [0x0c, ...unsignedLeb(depth)];
/** `if (condition) body` (adds one label level for branches inside the body). */
export const ifThen = (condition: Code, ...body: Code[]): Code => [condition, 0x04, 0x40, body, 0x0b];
export const ifElse = (condition: Code, then: Code[], otherwise: Code[]): Code => [
  condition,
  0x04,
  0x40,
  then,
  0x05,
  otherwise,
  0x0b,
];

/**
 * `for (counter = start; counter < end; counter += step) body` (step > 0). The body must not
 * branch out of the loop itself; `end` and `step` are evaluated on every iteration.
 */
export function forRange(counter: Local, start: Code, end: Code, step: number | Code, ...body: Code[]): Code {
  const increment = typeof step === "number" ? i32(step) : step;
  return [
    set(counter, start),
    block(loop(brIf(1, geS(get(counter), end)), ...body, set(counter, add(get(counter), increment)), br(0))),
  ];
}

// ---- functions and modules ---------------------------------------------------------------

export class FunctionBuilder {
  private readonly params: Local[] = [];
  private readonly locals: Local[] = [];
  private body: Code = [];

  constructor(
    readonly name: string,
    parameterTypes: readonly ValueType[],
  ) {
    for (const type of parameterTypes) this.params.push({ index: this.params.length, type });
  }

  param(index: number): Local {
    const local = this.params[index];
    if (!local) throw new Error(`${this.name} has no parameter ${index}`);
    return local;
  }

  local(type: ValueType): Local {
    const local = { index: this.params.length + this.locals.length, type };
    this.locals.push(local);
    return local;
  }

  setBody(...body: Code[]): void {
    this.body = body;
  }

  typeBytes(): number[] {
    return [0x60, ...vector(this.params.map((p) => [valueTypeByte[p.type]])), 0];
  }

  codeBytes(): number[] {
    const localGroups = this.locals.map((local) => [1, valueTypeByte[local.type]]);
    const bytes = [...vector(localGroups), ...flatten(this.body), 0x0b];
    return [...unsignedLeb(bytes.length), ...bytes];
  }
}

function section(id: number, contents: number[]): number[] {
  return [id, ...unsignedLeb(contents.length), ...contents];
}

/**
 * A module importing `env.memory` (the wasm backend's heap) and exporting the given functions
 * under their names. `shared` must match the imported memory (the multi-threaded build's is).
 */
export function assembleModule(
  functions: readonly FunctionBuilder[],
  memory: { shared: boolean },
): Uint8Array<ArrayBuffer> {
  const types = section(1, vector(functions.map((f) => f.typeBytes())));
  // Limits: shared memories must declare a maximum; 65536 pages (4 GiB) accepts any.
  const limits = memory.shared ? [0x03, ...unsignedLeb(0), ...unsignedLeb(65536)] : [0x00, ...unsignedLeb(0)];
  const imports = section(2, vector([[...utf8("env"), ...utf8("memory"), 0x02, ...limits]]));
  const declarations = section(3, vector(functions.map((_, index) => unsignedLeb(index))));
  const exports = section(7, vector(functions.map((f, index) => [...utf8(f.name), 0x00, ...unsignedLeb(index)])));
  const code = section(10, vector(functions.map((f) => f.codeBytes())));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...declarations,
    ...exports,
    ...code,
  ]);
}
