import type { Logger } from '../log.js';

/**
 * One throttle for all of Graph. Graph throttles per app and tenant (and per mailbox for some
 * resources), so this agent is polite as a whole, not per job:
 * - One request at a time: a device has a handful of small jobs; sending them one after another
 *   costs a second and means no request is ever in flight when Graph says "slow down".
 * - When Graph answers 429 or 503 with Retry-After, every request waits out the window, not only
 *   the retry of the one that was refused. After it the waiting requests go one at a time,
 *   `spacingMs` apart, not all at once. A job due twice in the window runs once after it
 *   (GraphJobs skips a tick while that job's run is in flight, and a run waiting here is).
 * - The window is logged once, with its length.
 */
/**
 * The longest window the throttle holds Graph for: an hour. Graph's own Retry-After values are
 * seconds to minutes; a day (what retry-after.ts lets through from a Retry-After of 1e12 or a date
 * in the year 9999) is a proxy's mistake, and would leave the screen's lines stale, presses without
 * an answer and every scheduled run skipped for that long.
 */
export const MAX_HOLD_MS = 60 * 60 * 1000;

export interface GraphThrottleOptions {
  now: () => number;
  /** Rejects with the signal's reason when it aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  logger: Logger;
  /** Between requests released after a window. */
  spacingMs?: number;
}

interface Waiter {
  grant: (release: () => void) => void;
}

export class GraphThrottle {
  private until = 0;
  /** After a window: the next request not before this. */
  private nextAt = 0;
  private busy = false;
  /** The last window end (or spacing) slept out in full. */
  private waitedFor = -1;
  private readonly waiters: Waiter[] = [];
  private pumping: AbortController | undefined;

  constructor(private readonly options: GraphThrottleOptions) {}

  /** Milliseconds until requests may go again; 0 when they may go now. */
  get remainingMs(): number {
    return Math.max(0, this.until - this.options.now());
  }

  /** Graph asked to wait `ms` (Retry-After): hold every request until then. */
  hold(ms: number, context: { status: number; job?: string | undefined; path?: string | undefined; request_id?: string | undefined }): void {
    const now = this.options.now();
    const held = Math.min(Math.max(0, ms), MAX_HOLD_MS);
    const until = now + held;
    if (until <= this.until) return;
    const fresh = now >= this.until;
    this.until = until;
    if (fresh) {
      const asked = held < ms ? `${Math.ceil(ms / 1000)} s, more than the agent's limit of ${Math.ceil(held / 1000)} s` : `${Math.ceil(ms / 1000)} s`;
      this.options.logger.warn({ event: 'graph.throttled', duration_ms: Math.round(held), ...context },
        `Graph asked to wait ${asked} (HTTP ${context.status}): every Graph request waits until then; if this repeats, run the jobs less often or spread them (graph.jobs schedules)`);
    }
  }

  /**
   * Waits for this request's turn (the window passed, no other request in flight); resolves with
   * the function that ends the turn. Rejects with the signal's reason if it aborts first.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        if (this.waiters.length === 0) this.pumping?.abort();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || this.pumping || this.waiters.length === 0) return;
    const target = Math.max(this.until, this.nextAt);
    // A wait already slept in full counts as done, whatever the clock says now: a clock set back
    // (a Pi without a real-time clock) must not hold Graph for hours.
    const wait = target === this.waitedFor ? 0 : target - this.options.now();
    if (wait > 0) {
      const abort = new AbortController();
      this.pumping = abort;
      this.options.sleep(wait, abort.signal).then(
        () => {
          this.pumping = undefined;
          this.waitedFor = target;
          this.pump(); // the window may have grown meanwhile
        },
        () => {
          this.pumping = undefined; // every waiter gave up (a stop, a sign-out)
        },
      );
      return;
    }
    const waiter = this.waiters.shift()!;
    this.busy = true;
    const afterWindow = this.until > 0;
    let released = false;
    waiter.grant(() => {
      if (released) return;
      released = true;
      this.busy = false;
      // Requests held by a window go one at a time, spaced, until the queue has drained.
      this.nextAt = afterWindow && this.waiters.length > 0 ? this.options.now() + (this.options.spacingMs ?? 1_000) : 0;
      if (this.waiters.length === 0) this.until = Math.max(this.until, 0) && this.remainingMs > 0 ? this.until : 0;
      this.pump();
    });
  }
}
