import type { Display } from './display.js';
import { renderScreen, type Screen } from './screens.js';
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../log.js';

/** How often a counting-down screen (the device code's minutes left) is redrawn. */
export const COUNTDOWN_REDRAW_MS = 1000;

export interface ScreenSessionOptions {
  display: Display;
  logger: Logger;
  now?: () => number;
  timers?: Omit<Clock, 'now'>;
  /** What still works when the display fails, for the log line ("the code is in this log"). */
  whileFailed?: string;
  /** Told once per failure (a recovery makes the next failure a new one): notifications. */
  onProblem?: (err: unknown) => void;
}

/**
 * One display in use: frames drawn one after the other, a countdown that redraws every second,
 * and a display that fails logged once (and once more when it works again), never thrown: the
 * daemon (agent/agent.ts) and `login` draw through this, so both count down and fail the same way.
 */
export class ScreenSession {
  private drawing: Promise<void> = Promise.resolve();
  private failed = false;
  private countdown: unknown;
  private paging: { periodMs: number; timer: unknown; interval: unknown } | undefined;
  private readonly now: () => number;
  private readonly timers: Omit<Clock, 'now'>;

  constructor(private readonly options: ScreenSessionOptions) {
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? systemClock;
  }

  get display(): Display {
    return this.options.display;
  }

  /** Opens the display; a failure is logged and drawing goes on (it may recover). */
  async open(): Promise<void> {
    try {
      await this.options.display.open();
    } catch (err) {
      this.problem(err);
    }
  }

  /**
   * Queues a frame of `screen` (rendered when its turn comes, at that moment's time). `stale` is
   * asked then too: true skips the frame (a newer one is queued behind it).
   */
  draw(screen: (now: number) => Screen, stale: () => boolean = () => false): Promise<void> {
    const { display } = this.options;
    this.drawing = this.drawing.then(async () => {
      if (stale()) return;
      const now = this.now();
      const frame = renderScreen(screen(now), now, { width: display.width, height: display.height });
      try {
        await display.show(frame);
        if (this.failed) {
          this.failed = false;
          this.options.logger.info({ event: 'display.recovered', display: display.name }, 'the display works again');
        }
      } catch (err) {
        this.problem(err);
      }
    });
    return this.drawing;
  }

  /** Calls `tick` every second (it redraws) until {@link stopCountdown}; a second start is ignored. */
  startCountdown(tick: () => void): void {
    if (this.countdown !== undefined) return;
    this.countdown = this.timers.setInterval(tick, COUNTDOWN_REDRAW_MS);
  }

  /**
   * Calls `tick` (it redraws) every `periodMs`, half way through each period of the wall clock, so
   * a page that follows the clock (screens.ts) has changed whatever the timer's jitter; until
   * {@link stopPaging}. A second start with the same period is ignored; another period restarts it.
   */
  startPaging(tick: () => void, periodMs: number): void {
    if (this.paging?.periodMs === periodMs) return;
    this.stopPaging();
    const untilMiddle = periodMs - ((this.now() - periodMs / 2) % periodMs + periodMs) % periodMs;
    const paging: { periodMs: number; timer: unknown; interval: unknown } = { periodMs, timer: undefined, interval: undefined };
    paging.timer = this.timers.setTimeout(() => {
      paging.timer = undefined;
      tick();
      paging.interval = this.timers.setInterval(tick, periodMs);
    }, untilMiddle);
    this.paging = paging;
  }

  stopPaging(): void {
    const paging = this.paging;
    if (!paging) return;
    if (paging.timer !== undefined) this.timers.clearTimeout(paging.timer);
    if (paging.interval !== undefined) this.timers.clearInterval(paging.interval);
    this.paging = undefined;
  }

  stopCountdown(): void {
    if (this.countdown === undefined) return;
    this.timers.clearInterval(this.countdown);
    this.countdown = undefined;
  }

  setPower(on: boolean): void {
    this.options.display.setPower(on).catch((err: unknown) => this.problem(err));
  }

  /** Waits for the frames queued, then releases the display with the last frame left on it. */
  async close(): Promise<void> {
    this.stopCountdown();
    this.stopPaging();
    await this.drawing;
    await this.options.display.close({ blank: false }).catch((err: unknown) => this.problem(err));
  }

  private problem(err: unknown): void {
    if (this.failed) return; // once, not every second
    this.failed = true;
    this.options.onProblem?.(err);
    const still = this.options.whileFailed ?? 'the agent keeps running and the code is in this log';
    this.options.logger.error({ event: 'display.error', display: this.options.display.name, err: String(err) },
      `the display failed (${String(err)}); ${still}`);
  }
}
