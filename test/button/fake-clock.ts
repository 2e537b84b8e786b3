import type { Timers } from '../../src/button/gestures.js';

/**
 * A clock that only moves when a test says so. Timers fire in due order as `advanceTo` passes
 * them, each seeing `now()` equal to its due time.
 */
export class FakeClock implements Timers {
  private time = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; callback: () => void }>();

  now = (): number => this.time;

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.pending.set(id, { due: this.time + Math.max(0, ms), callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** Moves time forward to `t`, firing every timer due on the way. */
  advanceTo(t: number): void {
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
      this.pending.delete(nextId);
      this.time = Math.max(this.time, timer.due);
      timer.callback();
    }
    this.time = Math.max(this.time, t);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  get pendingTimers(): number {
    return this.pending.size;
  }
}
