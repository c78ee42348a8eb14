import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
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

export interface WasmBackendInfo {
  backend: string;
  /** Whether the SIMD build of the backend was loaded. */
  simd: boolean;
  /** Whether the multi-threaded build was loaded (tfjs disables it in Node, see tfjs#3830). */
  multithread: boolean;
  /** XNNPACK worker threads; 1 when the single-threaded build is used. */
  threads: number;
}

let starting: Promise<void> | undefined;

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
    simd: simd === true,
    multithread: multithread === true,
    threads: getThreadsCount(),
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
