import { ModelportError } from "../../core/errors.js";

/**
 * onnxruntime-node throws plain Errors without codes, so the message is all there is. These are
 * the engine's input-validation messages (shape, rank, element type, feed and fetch names); they
 * mean the request does not fit the model. Anything else raised while running is the model's or
 * the engine's failure.
 */
const inputErrorPatterns = [
  /invalid dimensions for input/i,
  /invalid rank for input/i,
  /unexpected input data type/i,
  /is missing in 'feeds'/i,
  /invalid (input|output) name/i,
];

export function isEngineInputError(message: string): boolean {
  return inputErrorPatterns.some((pattern) => pattern.test(message));
}

export function fromRunError(error: unknown): ModelportError {
  if (error instanceof ModelportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = isEngineInputError(message) ? "MP_INVALID_REQUEST" : "MP_RUNTIME_ERROR";
  return new ModelportError(code, `onnxruntime: ${message.replace(/\s+/g, " ").trim()}`, { cause: error });
}
