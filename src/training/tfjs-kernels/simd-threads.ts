import { Worker } from "node:worker_threads";

/**
 * Extra threads for the wasm SIMD kernels when the backend runs tfjs's multi-threaded build: its
 * heap is a shared WebAssembly.Memory, so worker_threads can instantiate the same kernel module
 * on it and each compute a slice (a range of Winograd tiles, a block of rows) in place. With the
 * single-threaded build the heap is not shared and everything runs on the calling thread.
 *
 * Work is handed over through a small shared Int32Array, not messages: the calling thread writes
 * each worker's function and arguments, bumps a generation counter and wakes the workers
 * (Atomics.notify), does its own slice, then sleeps on a completion counter until all are done.
 * Kernels are synchronous like every tfjs kernel, so the calling thread blocking is no change.
 */

export interface SimdCall {
  /** Exported function of the kernel module. */
  readonly name: string;
  readonly args: readonly number[];
}

/** Control block layout (Int32 slots). */
const generationSlot = 0;
const doneSlot = 1;
const failedSlot = 2;
const headerSlots = 4;
const slotsPerWorker = 32; // function index, argument count, ≤ 30 arguments
const shutDown = -1;

const workerSource = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, index, names } = workerData;
const slots = new Int32Array(control);
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const base = ${headerSlots} + index * ${slotsPerWorker};
let seen = 0;
for (;;) {
  Atomics.wait(slots, ${generationSlot}, seen);
  seen = Atomics.load(slots, ${generationSlot});
  if (seen === ${shutDown}) break;
  const fn = slots[base];
  if (fn >= 0) {
    try {
      exports[names[fn]](...slots.subarray(base + 2, base + 2 + slots[base + 1]));
    } catch (error) {
      Atomics.store(slots, ${failedSlot}, 1);
      console.error("modelport simd worker:", error);
    }
  }
  Atomics.add(slots, ${doneSlot}, 1);
  Atomics.notify(slots, ${doneSlot});
}
`;

export class SimdThreadPool {
  private readonly slots: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly functionIndex: Map<string, number>;

  /** `threads` counts the calling thread: threads − 1 workers are started. */
  constructor(
    readonly threads: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: readonly string[],
  ) {
    const control = new SharedArrayBuffer((headerSlots + slotsPerWorker * threads) * 4);
    this.slots = new Int32Array(control);
    this.functionIndex = new Map(names.map((name, index) => [name, index]));
    for (let index = 0; index < threads - 1; index++) {
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: { module, memory, control, index, names: [...names] },
      });
      // Idle workers must not keep the process alive.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Runs `run(calls[0])` here and the other calls on workers, concurrently; returns when all are
   * done. At most `threads` calls.
   */
  runAll(calls: readonly SimdCall[], run: (call: SimdCall) => void): void {
    if (calls.length > this.threads) throw new Error(`${calls.length} calls for ${this.threads} threads`);
    const { slots } = this;
    Atomics.store(slots, doneSlot, 0);
    Atomics.store(slots, failedSlot, 0);
    for (let worker = 0; worker < this.workers.length; worker++) {
      const base = headerSlots + worker * slotsPerWorker;
      const call = calls[worker + 1];
      if (!call) {
        slots[base] = -1;
        continue;
      }
      const fn = this.functionIndex.get(call.name);
      if (fn === undefined || call.args.length > slotsPerWorker - 2)
        throw new Error(`cannot hand ${call.name} to a worker`);
      slots[base] = fn;
      slots[base + 1] = call.args.length;
      slots.set(call.args, base + 2);
    }
    // Generations stay positive; shutDown is the only negative value.
    const generation = (Atomics.load(slots, generationSlot) % 0x3fffffff) + 1;
    Atomics.store(slots, generationSlot, generation);
    Atomics.notify(slots, generationSlot);
    let failure: unknown;
    try {
      if (calls[0]) run(calls[0]);
    } catch (error) {
      failure = error;
    }
    // Every worker reports, whether it had a call or not. A worker that never answers (it could
    // not start) must not hang the process: kernels take milliseconds, so a minute means broken.
    for (;;) {
      const done = Atomics.load(slots, doneSlot);
      if (done >= this.workers.length) break;
      if (Atomics.wait(slots, doneSlot, done, 60_000) === "timed-out")
        throw new Error("a wasm SIMD worker thread did not answer within 60 s");
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(slots, failedSlot) !== 0) throw new Error("a wasm SIMD kernel failed on a worker thread");
  }

  close(): void {
    Atomics.store(this.slots, generationSlot, shutDown);
    Atomics.notify(this.slots, generationSlot);
  }
}
