import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScreenSession, COUNTDOWN_REDRAW_MS } from '../../src/display/screen-session.js';
import type { Display } from '../../src/display/display.js';
import type { Frame } from '../../src/display/frame.js';
import type { Screen } from '../../src/display/screens.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLog } from '../support/log-capture.js';

/** A display that keeps its frames, and fails while `broken` is set. */
class RecordingDisplay implements Display {
  readonly name = 'recording';
  readonly width = 128;
  readonly height = 64;
  frames: Frame[] = [];
  broken = false;
  closed: { blank?: boolean } | undefined;
  async open(): Promise<void> {
    if (this.broken) throw new Error('EREMOTEIO');
  }
  async show(frame: Frame): Promise<void> {
    if (this.broken) throw new Error('EIO');
    this.frames.push(frame);
  }
  async setPower(): Promise<void> {}
  async close(options?: { blank?: boolean }): Promise<void> {
    this.closed = options ?? {};
  }
}

const code = (issuedAt: number): Screen => ({ kind: 'device-code', userCode: 'ABCD-EFGH', verificationUri: 'https://microsoft.com/devicelogin', issuedAt, expiresAt: issuedAt + 15 * 60_000 });

test('the countdown redraws every second, each frame at its own time (the daemon and login alike)', async () => {
  const clock = new FakeClock(1_000_000);
  const display = new RecordingDisplay();
  const { logger } = captureLog();
  const session = new ScreenSession({ display, logger, now: clock.now, timers: clock });
  const drawnAt: number[] = [];
  const screen = (now: number): Screen => {
    drawnAt.push(now);
    return code(1_000_000);
  };
  await session.draw(screen);
  session.startCountdown(() => void session.draw(screen));
  session.startCountdown(() => assert.fail('a second countdown'));
  for (let i = 0; i < 3; i++) {
    clock.advanceBy(COUNTDOWN_REDRAW_MS);
    await session.draw(() => code(1_000_000), () => true); // waits for the queued frame
  }
  assert.equal(COUNTDOWN_REDRAW_MS, 1000);
  assert.deepEqual(drawnAt, [1_000_000, 1_001_000, 1_002_000, 1_003_000]);
  session.stopCountdown();
  clock.advanceBy(5 * COUNTDOWN_REDRAW_MS);
  await session.close();
  assert.equal(drawnAt.length, 4, 'no redraw after the countdown stopped');
  assert.deepEqual(display.closed, { blank: false }, 'the last frame stays on the panel');
});

test('a failing display is logged once, not every second, and once more when it works again; nothing is thrown', async () => {
  const clock = new FakeClock(0);
  const display = new RecordingDisplay();
  const { logger, lines } = captureLog();
  const session = new ScreenSession({ display, logger, now: clock.now, timers: clock, whileFailed: 'the code is printed as text' });
  display.broken = true;
  await session.open();
  for (let i = 0; i < 5; i++) await session.draw(() => code(0));
  const errors = lines.filter((l) => l.event === 'display.error');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]!.msg), /the code is printed as text/);
  display.broken = false;
  await session.draw(() => code(0));
  assert.equal(lines.filter((l) => l.event === 'display.recovered').length, 1);
  assert.equal(display.frames.length, 1);
});

test('a frame whose screen is stale when its turn comes is skipped', async () => {
  const display = new RecordingDisplay();
  const { logger } = captureLog();
  const session = new ScreenSession({ display, logger });
  let current = 'first';
  const first = session.draw(() => code(0), () => current !== 'first');
  current = 'second';
  const second = session.draw(() => ({ kind: 'signed-in', name: 'Ada', lines: ['Signed in'], online: true }), () => current !== 'second');
  await Promise.all([first, second]);
  assert.equal(display.frames.length, 1);
});

test('paging redraws half way through each period of the wall clock, whatever the phase it starts at, until stopped', async () => {
  const clock = new FakeClock(1_000_300); // 300 ms into a 4 s period... of the epoch
  const display = new RecordingDisplay();
  const { logger } = captureLog();
  const session = new ScreenSession({ display, logger, now: clock.now, timers: clock });
  const ticks: number[] = [];
  session.startPaging(() => ticks.push(clock.now()), 4000);
  session.startPaging(() => assert.fail('a second paging timer'), 4000);
  clock.advanceBy(12_000);
  // Mid-period: a page that follows the clock (floor(now / period)) has surely changed, jitter or not.
  assert.deepEqual(ticks.map((t) => t % 4000), [2000, 2000, 2000]);
  assert.equal(ticks.length, 3);
  session.stopPaging();
  clock.advanceBy(20_000);
  assert.equal(ticks.length, 3, 'stopped');
  assert.equal(clock.pendingTimers, 0, 'no timer left: an idle signed-in screen costs no CPU');
});
