import type { CronScheduler, CronTask, CronTaskOptions } from '../../src/graph/jobs.js';

/**
 * The soak's clocks. Virtual time is `Date` (node:test's mock timers, Date only: msal-node,
 * the agent, the log and the emulator all read it), moved forward by the soak's driver only.
 * Everything that waits on it is an event here, fired by the driver in time order:
 * - the agent's own timers (countdown, offline retries, "Sign out?" timeout, display sleep),
 *   through the `timers` override: the suite's FakeClock (test/support/fake-clock.ts) reading
 *   the mocked `Date`;
 * - the Graph jobs' cron schedules, through the `cron` override: {@link VirtualCron}.
 * Real timers stay real: msal-node's polling waits, HTTP timeouts, Graph retry back-off. They are
 * short (tens of ms to a few seconds) and happen inside one virtual instant.
 */

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
