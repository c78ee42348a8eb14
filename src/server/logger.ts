import pino from "pino";

/**
 * Structured JSON logs on stdout. Bodies and credentials never reach the logger by construction
 * (stages log ids and codes only); the redact list is a second line of defence for any object
 * that carries headers.
 */
export function createLogger(level: string) {
  // Asynchronous, buffered writes: a synchronous write per access-log line cost ~60 µs per request
  // (bench/gateway). `logger.flush()` on shutdown and pino's exit handling drain the buffer.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  return pino(
    {
      level,
      base: { service: "modelport" },
      redact: {
        paths: ["authorization", "*.authorization", "headers.authorization", "apiKey", "*.apiKey", "key", "token"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}

export type Logger = ReturnType<typeof createLogger>;
