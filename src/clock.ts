/**
 * Time, as every part that waits or counts reads it: the agent (countdown, retries, "Sign out?"),
 * button gestures, the display's bus retries, the watchdog. Injected, so tests move time
 * themselves (test/support/fake-clock.ts) instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The process's own clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

/**
 * The process's clock, with timers that never keep the process alive on their own: for
 * heartbeats and background retries (the watchdog, the status file, a display that does not
 * answer), which must not be the reason a process that has finished stays up.
 */
export const backgroundClock: Clock = {
  ...systemClock,
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
};
