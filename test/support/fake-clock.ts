/**
 * The test suite's one fake clock: time moves only when a test says so. Timeouts and intervals
 * fire in due order as {@link FakeClock.advanceTo} passes them, each seeing `now()` equal to its
 * due time. It has the shape of every `Timers` port in src/ (agent, gestures, displays).
 */
export class FakeClock {
  private time: number;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; callback: () => void; every?: number }>();

  constructor(start = 0) {
    this.time = start;
  }

  now = (): number => this.time;

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.pending.set(id, { due: this.time + Math.max(0, ms), callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  setInterval = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.pending.set(id, { due: this.time + every, callback, every });
    return id;
  };

  clearInterval = (handle: unknown): void => {
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
      if (timer.every !== undefined) timer.due += timer.every;
      else this.pending.delete(nextId);
      this.time = Math.max(this.time, nextDue);
      timer.callback();
    }
    this.time = Math.max(this.time, t);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /**
   * Moves time forward by `ms` in steps of `stepMs`, letting real I/O (HTTPS to the emulator, the
   * cache file) run for `realMs` between steps: for agents whose timers are fake and whose
   * network is real.
   */
  async pass(ms: number, options: { stepMs?: number; realMs?: number } = {}): Promise<void> {
    const step = options.stepMs ?? 1000;
    const end = this.time + ms;
    while (this.time < end) {
      this.advanceTo(Math.min(end, this.time + step));
      await new Promise((resolve) => setTimeout(resolve, options.realMs ?? 10));
    }
  }

  get pendingTimers(): number {
    return this.pending.size;
  }
}
