import type { Clock } from "../../core/clock.js";
import { type EvaluateRulesOptions, evaluateRules, type RuleOutcome } from "./evaluate.js";

/**
 * Runs a task every `intervalMs` without overlap (a slow run makes the next tick skip, not pile
 * up); the timer is unref'd so it never keeps the process alive. `stop()` waits for a running task.
 */
export function scheduleEvery(options: {
  intervalMs: number;
  run: () => Promise<unknown>;
  onError?: (error: unknown) => void;
}): { stop(): Promise<void>; runNow(): Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = (): Promise<void> => {
    if (running || stopped) return running ?? Promise.resolve();
    running = options
      .run()
      .then(() => undefined)
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    runNow: tick,
  };
}

export interface ScheduleRulesOptions extends Omit<EvaluateRulesOptions, "now"> {
  intervalMs: number;
  clock: Clock;
  onOutcomes?: (outcomes: RuleOutcome[]) => void;
  onError?: (error: unknown) => void;
}

/** Evaluates the rules on a schedule (e.g. every 60 s); returns stop() for shutdown. */
export function scheduleRules(options: ScheduleRulesOptions) {
  const { intervalMs, clock, onOutcomes, onError, ...evaluation } = options;
  return scheduleEvery({
    intervalMs,
    run: async () => onOutcomes?.(await evaluateRules({ ...evaluation, now: clock.now() })),
    ...(onError ? { onError } : {}),
  });
}
