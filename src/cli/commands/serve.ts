import type { Command } from "commander";
import { reportError } from "../output.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("Start the gateway, admin API and metrics on one port")
    .option("--config <file>", "config file, YAML or JSON (default ./modelport.yaml when present)")
    .option("--host <host>", "interface to listen on (default 127.0.0.1)")
    .option("--port <port>", "port to listen on (default 8080, or MODELPORT_PORT)")
    .option("--data-dir <dir>", "data directory (default ./.modelport, or MODELPORT_DATA_DIR)")
    .action(async (flags: { config?: string; host?: string; port?: string; dataDir?: string }) => {
      // Loaded here, not at the top, so other commands and --help start fast.
      const { resolveSettings } = await import("../../config/settings.js");
      const { startServer } = await import("../../server/start-server.js");
      const server = await startServer(resolveSettings(flags, process.env));
      if (server.generatedAdminToken) {
        process.stdout.write(
          `admin token (shown once; store it, or set MODELPORT_ADMIN_TOKEN): ${server.generatedAdminToken}\n`,
        );
      }
      let signals = 0;
      const stop = (signal: string) => {
        signals++;
        if (signals > 1) process.exit(130); // a second Ctrl-C does not wait for the drain
        server.shutdown(signal).then(
          () => process.exit(0),
          (error) => process.exit(reportError(error)),
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      // Nothing a request does may end the process: log what escapes and keep serving.
      process.on("unhandledRejection", (reason) =>
        server.logger.error({ err: { message: String(reason) } }, "unhandled rejection"),
      );
      // Handlers first, then the readiness line: a supervisor may signal the moment it reads it.
      process.stdout.write(`listening on ${server.url}\n`);
    });
}
