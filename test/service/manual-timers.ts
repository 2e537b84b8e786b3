import type { WatchdogTimers } from '../../src/service/watchdog.js';

/** Interval timers the test fires by hand: a tick without waiting for one. */
export interface ManualTimers extends WatchdogTimers {
  fire(): void;
  /** The interval of every setInterval call, in order. */
  intervals: number[];
  /** How many intervals are still set. */
  active(): number;
}

export function manualTimers(): ManualTimers {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  const intervals: number[] = [];
  return {
    intervals,
    active: () => callbacks.size,
    setInterval(callback, ms) {
      intervals.push(ms);
      const id = next++;
      callbacks.set(id, callback);
      return id;
    },
    clearInterval(handle) {
      callbacks.delete(handle as number);
    },
    fire() {
      for (const callback of [...callbacks.values()]) callback();
    },
  };
}
