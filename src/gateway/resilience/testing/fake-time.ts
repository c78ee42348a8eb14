import type { Clock } from "../../../core/clock.js";
import type { Timers } from "../attempt-scope.js";

/**
 * Test support: a clock and timer queue that only move when the test says so. `advance(ms)` fires
 * due timers in order, letting promise callbacks settle between them, so code that awaits a
 * timeout behaves as it would in real time without waiting. Not a mock of a Modelport component:
 * it stands in for the system clock, which every component takes as an injectable port.
 */
export interface FakeTime {
  clock: Clock;
  timers: Timers;
  /** Moves time forward, firing every timer due on the way. */
  advance(ms: number): Promise<void>;
  /** Timers scheduled and not yet fired or cleared. */
  pendingTimers(): number;
}

interface Scheduled {
  id: number;
  due: number;
  callback: () => void;
}

/** Lets pending promise callbacks and I/O-free async steps run to completion. */
export async function settle(rounds = 5): Promise<void> {
  for (let round = 0; round < rounds; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function createFakeTime(start = 1_000_000): FakeTime {
  let now = start;
  let nextId = 1;
  const queue: Scheduled[] = [];

  return {
    clock: { now: () => now, monotonic: () => now },
    timers: {
      setTimeout(callback, ms) {
        const id = nextId++;
        queue.push({ id, due: now + Math.max(0, ms), callback });
        return id;
      },
      clearTimeout(handle) {
        const index = queue.findIndex((entry) => entry.id === handle);
        if (index >= 0) queue.splice(index, 1);
      },
    },
    async advance(ms) {
      const target = now + ms;
      await settle();
      for (;;) {
        let earliest = -1;
        for (let index = 0; index < queue.length; index++) {
          const entry = queue[index];
          if (entry && entry.due <= target && (earliest < 0 || entry.due < (queue[earliest]?.due ?? 0)))
            earliest = index;
        }
        if (earliest < 0) break;
        const [entry] = queue.splice(earliest, 1);
        if (!entry) break;
        now = Math.max(now, entry.due);
        entry.callback();
        await settle();
      }
      now = target;
      await settle();
    },
    pendingTimers: () => queue.length,
  };
}
