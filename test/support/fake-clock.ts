import type { Clock } from '../../src/clock.js';

/**
 * The test suite's one fake clock: time moves only when a test says so. Timeouts and intervals
 * fire in due order as {@link FakeClock.advanceTo} passes them, each seeing `now()` equal to its
 * due time. It is a `Clock` (src/clock.ts), so it fits every part that takes one or a part of one
 * (agent, gestures, displays, watchdog, status file).
 *
 * Time can also be driven from outside: `new FakeClock(() => Date.now())` reads the time from
 * that function (the soak moves node:test's mock `Date`), and `advanceTo(now())` then fires what
 * is due.
 */
export class FakeClock implements Clock {
  private time: number;
  private readonly source: (() => number) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; ms: number; callback: () => void; every?: number }>();

  constructor(start: number | (() => number) = 0) {
    this.source = typeof start === 'function' ? start : undefined;
    this.time = typeof start === 'function' ? start() : start;
  }

  now = (): number => (this.source ? this.source() : this.time);

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.pending.set(id, { due: this.now() + Math.max(0, ms), ms, callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  setInterval = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.pending.set(id, { due: this.now() + every, ms, callback, every });
    return id;
  };

  clearInterval = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Moves time forward to `t`, firing every timer due on the way. Returns how many fired. */
  advanceTo(t: number): number {
    let fired = 0;
    for (;;) {
      let nextId: number | undefined;
      let nextDue = Infinity;
      for (const [id, timer] of this.pending) {
        if (timer.due <= t && timer.due < nextDue) {
          nextId = id;
          nextDue = timer.due;
        }
      }
      const timer = nextId === undefined ? undefined : this.pending.get(nextId);
      if (nextId === undefined || timer === undefined) break;
      if (timer.every !== undefined) timer.due += timer.every;
      else this.pending.delete(nextId);
      this.time = Math.max(this.time, nextDue);
      fired += 1;
      timer.callback();
    }
    this.time = Math.max(this.time, t);
    return fired;
  }

  advanceBy(ms: number): number {
    return this.advanceTo(this.now() + ms);
  }

  /**
   * Fires every timer waiting now, once (an interval once per period it spans), by moving time to
   * the last of them: "as if each had waited its delay".
   */
  fireAll(): number {
    const last = this.nextDue() === undefined ? undefined : Math.max(...[...this.pending.values()].map((t) => t.due));
    return last === undefined ? 0 : this.advanceTo(last);
  }

  /**
   * Moves time forward by `ms` in steps of `stepMs`, letting real I/O (HTTPS to the emulator, the
   * cache file) run for `realMs` between steps: for agents whose timers are fake and whose
   * network is real.
   */
  async pass(ms: number, options: { stepMs?: number; realMs?: number } = {}): Promise<void> {
    if (this.source) throw new Error('this clock reads its time from outside: move that time instead');
    const step = options.stepMs ?? 1000;
    const end = this.time + ms;
    while (this.time < end) {
      this.advanceTo(Math.min(end, this.time + step));
      await new Promise((resolve) => setTimeout(resolve, options.realMs ?? 10));
    }
  }

  /** When the next timer is due; undefined when none waits. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const t of this.pending.values()) if (next === undefined || t.due < next) next = t.due;
    return next;
  }

  /** The delays asked for by the timers waiting now, in the order they were set. */
  delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  /** Timers waiting now (the handle count a leak would grow). */
  get pendingTimers(): number {
    return this.pending.size;
  }
}
