import pino from "pino";

/**
 * Structured JSON logs on stdout. Bodies and credentials never reach the logger by construction
 * (stages log ids and codes only); the redact list is a second line of defence for any object
 * that carries headers.
 */
export function createLogger(level: string) {
  return pino({
    level,
    base: { service: "modelport" },
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "apiKey", "*.apiKey", "key", "token"],
      censor: "[redacted]",
    },
  });
}

export type Logger = ReturnType<typeof createLogger>;
