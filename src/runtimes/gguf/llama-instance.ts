import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";

/**
 * One llama.cpp backend per process, shared by every gguf runtime. `getLlama` initialises native
 * state that is meant to exist once; models and contexts are per runtime. The instance is never
 * disposed: it holds no open handles, so it does not keep the process alive.
 *
 * Options: CPU only, and nothing may be built or downloaded (this machine is offline; the prebuilt
 * binary ships in `@node-llama-cpp/<platform>`). A missing binary fails fast with NoBinaryFoundError.
 */
let shared: Promise<Llama> | undefined;

/** The last llama.cpp error lines, so a failed load can say *why* ("tensor ... not within the file bounds"). */
const recentErrors: string[] = [];
const RECENT_ERROR_LIMIT = 20;
let errorsLogged = 0;

function log(level: LlamaLogLevel, message: string): void {
  const line = message.trim();
  if (line === "") return;
  if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
    recentErrors.push(line);
    errorsLogged++;
    if (recentErrors.length > RECENT_ERROR_LIMIT) recentErrors.shift();
  }
  // Errors still reach the operator. Warnings are filtered by logLevel: llama.cpp warns about
  // routine choices (a context smaller than the training one) on every load.
  process.stderr.write(`[node-llama-cpp] ${line}\n`);
}

export function getSharedLlama(): Promise<Llama> {
  if (!shared) {
    shared = getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
      logger: log,
    });
    // A failed init (e.g. no binary) is retried by the next caller instead of being cached.
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** Count of error lines logged so far; pair with `errorLinesSince` to read one call's errors. */
export function errorLineMark(): number {
  return errorsLogged;
}

/** llama.cpp error lines logged after `mark` (approximate when loads run concurrently). */
export function errorLinesSince(mark: number): string[] {
  const count = Math.min(errorsLogged - mark, recentErrors.length);
  return count > 0 ? recentErrors.slice(-count) : [];
}
