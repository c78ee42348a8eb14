import type { RequestLogRepository } from "./repository.js";

/**
 * Deletes request-log entries older than `retentionDays`, once at start and then every
 * `intervalMs`. Returns a stop function.
 */
export function scheduleRetention(options: {
  repository: RequestLogRepository;
  retentionDays: number;
  intervalMs?: number;
  now?: () => number;
  onDeleted?: (count: number) => void;
  onError?: (error: unknown) => void;
}): () => void {
  const now = options.now ?? Date.now;
  const run = () => {
    const cutoff = new Date(now() - options.retentionDays * 86_400_000).toISOString();
    options.repository.deleteOlderThan(cutoff).then(
      (count) => {
        if (count > 0) options.onDeleted?.(count);
      },
      (error) => options.onError?.(error),
    );
  };
  run();
  const timer = setInterval(run, options.intervalMs ?? 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
