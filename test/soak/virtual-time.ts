import type { Clock } from '../../src/clock.js';

type Timers = Omit<Clock, 'now'>;
import type { CronScheduler, CronTask, CronTaskOptions } from '../../src/graph/jobs.js';

/**
 * The soak's clocks. Virtual time is `Date` (node:test's mock timers, Date only: msal-node,
 * the agent, the log and the emulator all read it), moved forward by the soak's driver only.
 * Everything that waits on it is an event here, fired by the driver in time order:
 * - the agent's own timers (countdown, offline retries, "Sign out?" timeout, display sleep),
 *   through the `timers` override: {@link VirtualTimers};
 * - the Graph jobs' cron schedules, through the `cron` override: {@link VirtualCron}.
 * Real timers stay real: msal-node's polling waits, HTTP timeouts, Graph retry back-off. They are
 * short (tens of ms to a few seconds) and happen inside one virtual instant.
 */

interface VirtualTimer {
  at: number;
  fn: () => void;
  every?: number;
}

export class VirtualTimers implements Timers {
  private seq = 0;
  private readonly timers = new Map<number, VirtualTimer>();

  constructor(private readonly now: () => number) {}

  setTimeout(fn: () => void, ms: number): unknown {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.now() + Math.max(0, ms), fn });
    return this.seq;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): unknown {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.now() + ms, fn, every: Math.max(1, ms) });
    return this.seq;
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting now (the handle count a leak would grow). */
  get size(): number {
    return this.timers.size;
  }

  nextAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers.values()) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Fires the timers due at `now` (the driver has moved the clock there). Returns how many fired. */
  fireDue(now: number): number {
    const due = [...this.timers.entries()].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
    for (const [id, timer] of due) {
      if (!this.timers.has(id)) continue; // cleared by an earlier one
      if (timer.every !== undefined) timer.at += timer.every;
      else this.timers.delete(id);
      timer.fn();
    }
    return due.length;
  }
}

/** A cron task the soak fires: `*\/N * * * *` only (every N minutes, on the minute, UTC). */
export class VirtualCronTask implements CronTask {
  running = false;
  readonly everyMs: number;
  /** Ticks fired, and how each ended (see the soak's accounting). */
  fired = 0;

  constructor(readonly name: string, expression: string, readonly run: () => Promise<void>, private readonly onDestroy: (t: VirtualCronTask) => void) {
    const match = /^\*\/(\d+) \* \* \* \*$/.exec(expression);
    if (!match) throw new Error(`the soak's cron knows "*/N * * * *" only, not "${expression}"`);
    this.everyMs = Number(match[1]) * 60_000;
  }

  start(): void {
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  destroy(): void {
    this.running = false;
    this.onDestroy(this);
  }

  /** The first slot after `t`. */
  nextAfter(t: number): number {
    return (Math.floor(t / this.everyMs) + 1) * this.everyMs;
  }
}

export class VirtualCron implements CronScheduler {
  readonly tasks = new Set<VirtualCronTask>();

  createTask(expression: string, fn: () => Promise<void>, options: CronTaskOptions): CronTask {
    if (options.timezone !== 'UTC') throw new Error(`the soak's cron runs in UTC, not ${options.timezone}`);
    const task = new VirtualCronTask(options.name, expression, fn, (t) => this.tasks.delete(t));
    this.tasks.add(task);
    return task;
  }

  /** The next slot of a running task after `t`, if any task runs. */
  nextAfter(t: number): number | undefined {
    let next: number | undefined;
    for (const task of this.tasks) {
      if (!task.running) continue;
      const at = task.nextAfter(t);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** Running tasks with a slot at exactly `t`. */
  dueAt(t: number): VirtualCronTask[] {
    return [...this.tasks].filter((task) => task.running && t % task.everyMs === 0);
  }
}
