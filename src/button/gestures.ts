import { systemClock, type Clock } from '../clock.js';
import type { ButtonListener } from './button.js';

export interface GestureOptions {
  /**
   * Lockout after an accepted edge, like gpiozero's `bounce_time`: edges within this window are
   * contact bounce and ignored. Unlike onoff's trailing `debounceTimeout`, the first edge counts
   * at once, so a press is not delayed. 0 turns debouncing off.
   */
  bounceTimeMs: number;
  /** How long a continuous press lasts before it is a hold (gpiozero's `hold_time`). */
  holdTimeMs: number;
  timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Milliseconds on any monotonic scale (only differences count); `performance.now()` by default. */
  now?: () => number;
}

/**
 * Turns raw levels (pressed / released) into gestures with gpiozero's semantics, and gpiozero's
 * missing "short press vs long press" as a first-class distinction (its issue 708):
 *
 * - a *press* is reported on release, when the button was down for less than the hold time;
 * - a *hold* is reported once, when the hold time is reached while still down; the release that
 *   follows reports nothing.
 *
 * Pure: no real time unless no clock is injected. Feed it every level the driver sees; repeated
 * levels are ignored.
 *
 * One departure from a plain lockout: if the line ends up in a different state than the last
 * accepted edge when the lockout expires (a tap shorter than the bounce time), that final level
 * is accepted then. gpiozero would miss the release and the button would look stuck down, which
 * here would turn a tap into a hold.
 */
export class Gestures {
  private readonly bounceTimeMs: number;
  private readonly holdTimeMs: number;
  private readonly timers: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  private readonly now: () => number;
  private readonly listener: ButtonListener;

  /** The debounced state: what the person is doing, as far as we believe. */
  private down = false;
  private downSince = 0;
  private holdReported = false;
  private holdTimer: unknown = undefined;

  /** The last level the driver reported, accepted or not, and when it changed to that. */
  private rawDown = false;
  private rawChangedAt = 0;
  private lockedUntil = -Infinity;
  private settleTimer: unknown = undefined;
  private disposed = false;

  constructor(options: GestureOptions, listener: ButtonListener) {
    if (!(options.bounceTimeMs >= 0)) throw new RangeError(`bounceTimeMs must be >= 0, got ${options.bounceTimeMs}`);
    if (!(options.holdTimeMs > 0)) throw new RangeError(`holdTimeMs must be > 0, got ${options.holdTimeMs}`);
    this.bounceTimeMs = options.bounceTimeMs;
    this.holdTimeMs = options.holdTimeMs;
    this.timers = options.timers ?? systemClock;
    this.now = options.now ?? (() => performance.now());
    this.listener = listener;
  }

  /** The button's level now: `true` while pressed. */
  level(pressed: boolean): void {
    if (this.disposed) return;
    const t = this.now();
    if (pressed !== this.rawDown) this.rawChangedAt = t;
    this.rawDown = pressed;
    if (t < this.lockedUntil) {
      // Contact bounce. The settle timer looks at the line once the lockout is over.
      this.scheduleSettle(this.lockedUntil - t);
      return;
    }
    this.accept(pressed, t);
  }

  /** Cancels pending timers; later levels are ignored. */
  dispose(): void {
    this.disposed = true;
    this.cancelHold();
    if (this.settleTimer !== undefined) this.timers.clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }

  private accept(pressed: boolean, t: number): void {
    if (pressed === this.down) return;
    this.down = pressed;
    this.lockedUntil = t + this.bounceTimeMs;
    if (pressed) {
      this.downSince = t;
      this.holdReported = false;
      this.holdTimer = this.timers.setTimeout(() => {
        this.holdTimer = undefined;
        this.reportHold();
      }, Math.max(0, t + this.holdTimeMs - this.now()));
    } else {
      this.cancelHold();
      if (this.holdReported) return;
      // A late hold timer (a busy event loop) must not turn a long press into a short one.
      if (t - this.downSince >= this.holdTimeMs) {
        this.holdReported = true;
        this.listener.held();
      } else {
        this.listener.pressed();
      }
    }
  }

  private reportHold(): void {
    if (this.disposed || !this.down || this.holdReported) return;
    this.holdReported = true;
    this.listener.held();
  }

  private cancelHold(): void {
    if (this.holdTimer !== undefined) this.timers.clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private scheduleSettle(delayMs: number): void {
    if (this.settleTimer !== undefined) return;
    this.settleTimer = this.timers.setTimeout(() => {
      this.settleTimer = undefined;
      if (this.disposed) return;
      // Dated when the line last changed, so a short tap still measures short.
      this.accept(this.rawDown, this.rawChangedAt);
    }, delayMs);
  }
}
