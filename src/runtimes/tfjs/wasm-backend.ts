import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BackendWasm, getThreadsCount, setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { ModelportError } from "../../core/errors.js";

/**
 * The one place that starts TensorFlow.js's WebAssembly backend. Everything in Modelport that
 * touches tfjs (the runtime, the trainers) awaits `ensureWasmBackend()` first, so all tensors live
 * on the same backend. tfjs-node cannot be installed here, and pure-JS CPU is far slower.
 */

const require = createRequire(import.meta.url);

/**
 * The directory holding the `.wasm` binaries, with a trailing slash: the backend appends a file
 * name (`tfjs-backend-wasm-simd.wasm`, ...) to this prefix, and in Node emscripten reads that
 * path with `fs.readFileSync` — a plain path, never a fetch over the network.
 */
export const wasmBinaryDirectory = `${join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`;

/**
 * Threads for Modelport's wasm SIMD training kernels (src/training/tfjs-kernels), from
 * `MODELPORT_TFJS_WASM_THREADS` (default 1: tfjs's single-threaded SIMD build, as before). With
 * more, tfjs's multi-threaded SIMD build is loaded for its shared heap, and the kernels split
 * their work across that many threads: with 2, the MNIST CNN training step at batch 64 took
 * 29–34 ms instead of 38–39 ms on this repo's 2-core dev box (shared with other work). Read
 * once, when the backend starts.
 *
 * XNNPACK's own thread pool stays at 1 thread: with 2 XNNPACK threads as well, waking its workers
 * for every operation cost more than it saved (MLP step 5.7 → 11.5 ms, CNN step 29 → 35 ms), and
 * its spinning workers compete with the kernels' threads for the cores.
 */
function requestedThreads(): number {
  // Read here rather than through src/config: the backend starts lazily inside whatever process
  // trains (server, CLI, a benchmark's child process), long after settings were resolved, and
  // the value has to be fixed before tfjs's wasm module loads.
  const raw = process.env.MODELPORT_TFJS_WASM_THREADS;
  if (raw === undefined || raw.trim() === "") return 1;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new ModelportError(
      "MP_CONFIG_INVALID",
      `MODELPORT_TFJS_WASM_THREADS must be an integer from 1 to 64, got "${raw}"`,
    );
  return threads;
}

/** The part of the emscripten module of tfjs's threaded build that start-up touches. */
interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argumentTypes: string[]): unknown;
  tfjs?: unknown;
}

/**
 * Registers a `wasm` backend factory that loads tfjs's multi-threaded SIMD build. tfjs 4.22 never
 * picks that build in Node (tfjs#3830): its loader hands emscripten Blob URLs, which Node's
 * worker_threads cannot start. The build itself runs on worker_threads when given files: its
 * pthread worker script ships as a JS string (`wasmWorkerContents`), so it is written once to a
 * file in the OS temp directory.
 */
function registerThreadedWasmBackend(): void {
  const buildDirectory = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
  const script = join(buildDirectory, "tfjs-backend-wasm-threaded-simd.js");
  const factory = require(script) as (options: object) => Promise<ThreadedModule>;
  const { wasmWorkerContents } = require(join(buildDirectory, "tfjs-backend-wasm-threaded-simd.worker.js")) as {
    wasmWorkerContents: string;
  };
  // The string was meant for a Blob; its "\n" escapes became real newlines inside string literals.
  const workerSource = wasmWorkerContents.replace(/\n/g, "\\n");
  const workerFile = join(tmpdir(), `modelport-tfjs-wasm-${tf.version_core}-${workerSource.length}.worker.cjs`);
  if (!existsSync(workerFile) || readFileSync(workerFile, "utf8") !== workerSource) {
    const partial = `${workerFile}.${process.pid}`;
    writeFileSync(partial, workerSource);
    renameSync(partial, workerFile);
  }
  tf.removeBackend("wasm");
  tf.registerBackend(
    "wasm",
    async () => {
      const module = await factory({
        locateFile: (path: string) => (path.endsWith(".worker.js") ? workerFile : join(buildDirectory, path)),
        mainScriptUrlOrBlob: script,
      });
      // The bindings tfjs's own loader adds (tf-backend-wasm's init()).
      module.tfjs = {
        init: module.cwrap("init", null, []),
        initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
        getThreadsCount: module.cwrap("get_threads_count", "number", []),
        registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
        disposeData: module.cwrap("dispose_data", null, ["number"]),
        dispose: module.cwrap("dispose", null, []),
      };
      setThreadsCount(1);
      return new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    },
    2,
  );
}

export interface WasmBackendInfo {
  backend: string;
  /** Whether the SIMD build of the backend was loaded. */
  simd: boolean;
  /**
   * Whether the multi-threaded build was loaded (tfjs itself never loads it in Node, see tfjs#3830;
   * Modelport does when `MODELPORT_TFJS_WASM_THREADS` > 1, for its shared heap).
   */
  multithread: boolean;
  /** XNNPACK worker threads (1: see `requestedThreads`). */
  threads: number;
  /** Threads Modelport's wasm SIMD training kernels use (`MODELPORT_TFJS_WASM_THREADS`). */
  kernelThreads: number;
}

let starting: Promise<void> | undefined;
/** Set when start() registered the multi-threaded build. */
let threadedBuild = false;
/** What `MODELPORT_TFJS_WASM_THREADS` asked for when the backend started. */
let kernelThreads = 1;

type ProcessEvent = "uncaughtException" | "unhandledRejection";
const processEvents: readonly ProcessEvent[] = ["uncaughtException", "unhandledRejection"];

// process.listeners() is overloaded per event name, so a union argument needs this split.
function listenersOf(event: ProcessEvent): unknown[] {
  return event === "uncaughtException" ? process.listeners(event) : process.listeners(event);
}

/**
 * Emscripten's Node glue adds process-wide `uncaughtException` and `unhandledRejection` listeners
 * that rethrow whatever they get. Those would take over the server's own error handling (a
 * rethrow inside an `uncaughtException` listener kills the process with exit code 7), so the
 * listeners added while the module starts are removed again.
 */
function removeListenersAddedSince(before: Map<ProcessEvent, Set<unknown>>): void {
  for (const event of processEvents) {
    const known = before.get(event) ?? new Set();
    for (const listener of listenersOf(event)) {
      // Only emscripten's: their body rethrows (`throw ex` / `throw reason`); anything else added
      // meanwhile by other code is left alone.
      if (!known.has(listener) && /\bthrow\s+(ex|reason)\b/.test(String(listener)))
        process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

async function start(): Promise<void> {
  kernelThreads = requestedThreads();
  if (kernelThreads > 1 && !threadedBuild) {
    registerThreadedWasmBackend();
    threadedBuild = true;
  }
  // tfjs keeps `setWasmPaths` state per module; it must run before the first setBackend("wasm").
  setWasmPaths(wasmBinaryDirectory);
  const before = new Map(processEvents.map((event) => [event, new Set<unknown>(listenersOf(event))]));
  try {
    const selected = await tf.setBackend("wasm");
    await tf.ready();
    if (!selected || tf.getBackend() !== "wasm")
      throw new Error(`tf.setBackend("wasm") did not select the backend (active: ${tf.getBackend()})`);
  } finally {
    removeListenersAddedSince(before);
  }
}

/**
 * Initialises the wasm backend once and makes it the active tfjs backend. Idempotent and safe to
 * call concurrently; a failed start is retried by the next call.
 */
export async function ensureWasmBackend(): Promise<void> {
  if (!starting) {
    starting = start().catch((error: unknown) => {
      starting = undefined;
      throw new ModelportError(
        "MP_MODEL_NOT_READY",
        `could not start the TensorFlow.js wasm backend from ${wasmBinaryDirectory}: ${describe(error)}`,
        { cause: error },
      );
    });
  }
  await starting;
  // Someone may have switched backends since; tensors must stay on wasm.
  if (tf.getBackend() !== "wasm") {
    await tf.setBackend("wasm");
    await tf.ready();
  }
}

/** What the running backend uses; call after `ensureWasmBackend()`. */
export async function wasmBackendInfo(): Promise<WasmBackendInfo> {
  await ensureWasmBackend();
  const [simd, multithread] = await Promise.all([
    tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
  ]);
  return {
    backend: tf.getBackend(),
    // The threaded build is SIMD-only.
    simd: simd === true || threadedBuild,
    multithread: multithread === true || threadedBuild,
    threads: getThreadsCount(),
    kernelThreads: wasmKernelThreads(),
  };
}

/**
 * Threads for Modelport's wasm SIMD kernels: `MODELPORT_TFJS_WASM_THREADS` as read at start-up
 * when the multi-threaded build (whose heap worker threads can share) is running, otherwise 1.
 */
export function wasmKernelThreads(): number {
  return threadedBuild ? kernelThreads : 1;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
