import type { Command } from "commander";
import type { StorageFlags } from "../../config/settings.js";
import { ModelportError } from "../../core/errors.js";
import { UsageError } from "../output.js";
import { withStorage } from "../storage-context.js";

interface WorkerFlags extends StorageFlags {
  concurrency?: string;
}

/**
 * `modelport worker`: trains jobs from the shared BullMQ queue without serving HTTP, so training
 * does not compete with inference on gateway nodes (set `training.worker: false` there). Same
 * storage flags and environment as `serve`; runs until SIGTERM/SIGINT, which hands a running job
 * back to the queue for another worker.
 */
async function runWorker(flags: WorkerFlags): Promise<void> {
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16))
    throw new UsageError("--concurrency must be an integer from 1 to 16");
  await withStorage(flags, async ({ settings, storage, handle }) => {
    if (settings.redisUrl === undefined)
      throw new ModelportError(
        "MP_CONFIG_INVALID",
        "modelport worker takes its jobs from the shared queue: set MODELPORT_REDIS_URL (the same Redis as the servers)",
      );
    const { Registry } = await import("prom-client");
    const { createLogger } = await import("../../server/logger.js");
    const { startTraining } = await import("../../server/training-wiring.js");
    const logger = createLogger(settings.config.logging.level);
    const training = await startTraining({
      handle,
      storage,
      dataDir: settings.dataDir,
      redisUrl: settings.redisUrl,
      config: { ...settings.config.training, worker: true, ...(concurrency === undefined ? {} : { concurrency }) },
      registry: new Registry(),
      logger,
    });
    const stopped = new Promise<string>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    // Handlers first, then the readiness line: a supervisor may signal the moment it reads it.
    process.stdout.write(
      `worker ready: training jobs from queue prefix '${settings.config.training.queuePrefix}' (concurrency ${concurrency ?? settings.config.training.concurrency})\n`,
    );
    const signal = await stopped;
    logger.info({ signal }, "worker stopping; a running job goes back to the queue");
    await training.close();
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
  });
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Train jobs from the shared queue (BullMQ in MODELPORT_REDIS_URL) without serving HTTP")
    .option("--concurrency <n>", "jobs this worker trains at once (default training.concurrency)")
    .option("--config <file>", "config file")
    .option("--data-dir <dir>", "data directory (run artifacts are written under it)")
    .action((flags: WorkerFlags) => runWorker(flags));
}
