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
 * XNNPACK threads for the wasm backend, from `MODELPORT_TFJS_WASM_THREADS` (default 1: the
 * single-threaded SIMD build, as before). With more, the multi-threaded SIMD build is loaded; its
 * GEMMs and convolutions then use that many threads (2 threads: 1.6× faster 1024³ matMul,
 * CNN training step 1.4–1.6× faster on an idle 2-core box). Read once, when the backend starts.
 */
function requestedThreads(): number {
  const raw = process.env.MODELPORT_TFJS_WASM_THREADS;
  if (raw === undefined || raw.trim() === "") return 1;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1 || threads > 8)
    throw new Error(`MODELPORT_TFJS_WASM_THREADS must be an integer from 1 to 8, got "${raw}"`);
  return threads;
}

/** The part of the emscripten module of tfjs's threaded build that start-up touches. */
interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argumentTypes: string[]): unknown;
  PThread?: { runningWorkers: { unref?: () => void }[] };
  tfjs?: unknown;
}

/**
 * Registers a `wasm` backend factory that loads tfjs's multi-threaded SIMD build. tfjs 4.22 never
 * picks that build in Node (tfjs#3830): its loader hands emscripten Blob URLs, which Node's
 * worker_threads cannot start. The build itself runs fine on worker_threads when given files:
 * - the pthread worker script ships as a JS string (`wasmWorkerContents`), so it is written once
 *   to a file in the OS temp directory;
 * - tfjs caps XNNPACK's pool at half the logical cores (assuming hyper-threading), so the core
 *   count the wasm module sees is raised to fit the requested thread count;
 * - running pthreads keep Node's event loop alive, so the pool's workers are unref'd.
 */
function registerThreadedWasmBackend(threads: number): void {
  const buildDirectory = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
  const script = join(buildDirectory, "tfjs-backend-wasm-threaded-simd.js");
  const binary = join(buildDirectory, "tfjs-backend-wasm-threaded-simd.wasm");
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
      // emscripten never settles its promise when instantiation fails; this one rejects instead.
      let instantiationFailed: (error: unknown) => void = () => {};
      const failure = new Promise<never>((_, reject) => {
        instantiationFailed = reject;
      });
      const module = await Promise.race([
        factory({
          locateFile: (path: string) => (path.endsWith(".worker.js") ? workerFile : join(buildDirectory, path)),
          mainScriptUrlOrBlob: script,
          instantiateWasm(
            imports: { env: Record<string, unknown> },
            receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
          ) {
            imports.env.emscripten_num_logical_cores = () => 2 * threads;
            WebAssembly.instantiate(readFileSync(binary), imports as WebAssembly.Imports).then(
              ({ instance, module }) => receive(instance, module),
              instantiationFailed,
            );
            return {};
          },
        }),
        failure,
      ]);
      // The bindings tfjs's own loader adds (tf-backend-wasm's init()).
      module.tfjs = {
        init: module.cwrap("init", null, []),
        initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
        getThreadsCount: module.cwrap("get_threads_count", "number", []),
        registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
        disposeData: module.cwrap("dispose_data", null, ["number"]),
        dispose: module.cwrap("dispose", null, []),
      };
      setThreadsCount(threads);
      const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
      for (const worker of module.PThread?.runningWorkers ?? []) worker.unref?.();
      return backend;
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
   * Modelport does when `MODELPORT_TFJS_WASM_THREADS` > 1).
   */
  multithread: boolean;
  /** XNNPACK worker threads; 1 when the single-threaded build is used. */
  threads: number;
}

let starting: Promise<void> | undefined;
/** Set when start() registered the multi-threaded build. */
let threadedBuild = false;

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
  const threads = requestedThreads();
  if (threads > 1 && !threadedBuild) {
    registerThreadedWasmBackend(threads);
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
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
