import { type ErrorCode, errorCodes } from "./error-codes.js";

export interface ModelportErrorOptions {
  /** Overrides the code's default HTTP status (e.g. an upstream 4xx passed through). */
  status?: number;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /** The request field at fault, in dotted form (`messages.0.content`). */
  param?: string;
  /** Seconds after which retrying makes sense (from an upstream's `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * The one error type Modelport raises on purpose. It is mapped to a protocol's error shape
 * (OpenAI, OIP v2, admin) only at the HTTP edge.
 */
export class ModelportError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly isRetryable: boolean;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: ModelportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModelportError";
    this.code = code;
    this.status = options.status ?? errorCodes[code].status;
    this.isRetryable = options.retryable ?? errorCodes[code].retryable;
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get openaiType(): string {
    return errorCodes[this.code].openaiType;
  }
}

export function isModelportError(value: unknown): value is ModelportError {
  return value instanceof ModelportError;
}

/** Wraps anything thrown into a ModelportError, keeping the original as `cause`. */
export function toModelportError(value: unknown, fallback: ErrorCode = "MP_INTERNAL"): ModelportError {
  if (value instanceof ModelportError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new ModelportError(fallback, message, { cause: value });
}
