/**
 * systemd's watchdog, seen from the service: ping at least once per `WatchdogSec=` or be killed
 * (SIGABRT) and restarted. The ping comes from a plain timer on the main event loop, on purpose: if
 * the loop stalls (a blocking call that never returns, a busy loop), the timer stops firing, the
 * pings stop and systemd restarts a process that is alive but no longer doing anything.
 */

import { backgroundClock, type Clock } from '../clock.js';

/**
 * The ping interval systemd asks for, in milliseconds: half of `WATCHDOG_USEC` (what sd_watchdog_enabled(3)
 * recommends), or undefined when the watchdog is off, malformed, or meant for another process
 * (`WATCHDOG_PID` names the main PID; a child that inherited the environment must not ping).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number = process.pid): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return undefined;
  // At least 1 ms: a timer of 0 would spin.
  return Math.max(1, Math.floor(usec / 2 / 1000));
}

export interface WatchdogOptions {
  intervalMs: number;
  /** Sends one `WATCHDOG=1`; must not throw (errors are the sender's to report). */
  ping: () => void;
  /** By default timers that never keep a finished process alive (the watchdog must not be the reason it stays). */
  timers?: Pick<Clock, 'setInterval' | 'clearInterval'>;
}

export class Watchdog {
  readonly intervalMs: number;
  private readonly ping: () => void;
  private readonly timers: Pick<Clock, 'setInterval' | 'clearInterval'>;
  private handle: unknown;

  constructor(options: WatchdogOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`watchdog interval must be positive, got ${options.intervalMs}`);
    this.intervalMs = options.intervalMs;
    this.ping = options.ping;
    this.timers = options.timers ?? backgroundClock;
  }

  get running(): boolean {
    return this.handle !== undefined;
  }

  /** Pings once now (start-up may already have taken a while) and then every interval. */
  start(): void {
    if (this.handle !== undefined) return;
    this.handle = this.timers.setInterval(() => this.ping(), this.intervalMs);
    this.ping();
  }

  stop(): void {
    if (this.handle === undefined) return;
    this.timers.clearInterval(this.handle);
    this.handle = undefined;
  }
}
